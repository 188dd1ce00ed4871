"""The one error type of the frame codec."""

from __future__ import annotations

from gateway.sdk.codec import CodecError


class FrameError(CodecError):
    """A frame that is not a valid Modbus ADU or PDU; the text names the rule it breaks."""
