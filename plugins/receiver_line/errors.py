"""The one error type of the line codec, with a reason the bridge counts and tests name."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk.codec import CodecError


class LineReason(StrEnum):
    """Which rule a line broke (a metric label: ``nak_<reason>``)."""

    TOO_LONG = "too_long"  # no terminator within the longest line accepted
    CHARACTER = "character"  # a byte that is not printable ASCII
    HEADER = "header"  # no protocol id and receiver/line digits at the start
    HEARTBEAT = "heartbeat"  # a '1...@' line that is not the heartbeat layout
    CONTACT_ID = "contact_id"  # protocol 5 or Q whose fields do not read as Contact ID
    SIA = "sia"  # protocol S, 0 or 3 whose block does not read as SIA


class LineError(CodecError):
    """A line the bridge cannot read as sent: it answers NAK so the receiver sends it again.

    Sur-Gard receivers repeat a NAKed line at once (up to 20 attempts in the SG automation
    protocol's timing chart), so a line garbled on the wire usually arrives whole next time.
    """

    def __init__(self, reason: LineReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
