"""The one error type of the Contact ID codec."""

from __future__ import annotations

from gateway.sdk.codec import CodecError


class ContactIdError(CodecError):
    """A frame that is not a valid Contact ID message; the text names the rule it breaks.

    A receiver answers it with no kissoff (DC-05: a bad message is never acknowledged), so the
    panel repeats it, up to four attempts.
    """
