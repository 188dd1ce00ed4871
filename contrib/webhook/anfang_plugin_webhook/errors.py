"""The one error type of the webhook codec: every bad body raises it, and nothing else escapes."""

from __future__ import annotations

from gateway.sdk.codec import CodecError


class WebhookError(CodecError):
    """A body that is not a valid alarm report; the text names the rule it breaks.

    The server answers it with ``400`` and the text, so the sender's developer sees what to fix.
    """
