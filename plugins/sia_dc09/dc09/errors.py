"""The one error type of the DC-09 frame codec, with a reason a receiver can answer and count."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from gateway.sdk.codec import CodecError


class Reason(StrEnum):
    """Why a frame was refused; ``response`` is the DC-09 answer it calls for by default."""

    TOO_LONG = "too_long"
    CRC = "crc"
    LENGTH = "length"
    FORMAT = "format"
    UNKNOWN_TOKEN = "unknown_token"
    NO_KEY = "no_key"
    KEY = "key"
    TIMESTAMP = "timestamp"

    @property
    def response(self) -> Literal["NAK", "DUH"]:
        """DC-09: NAK for "CRC/format failure, or encrypted message failing the timestamp test";
        DUH when the frame was "correctly received but cannot process (unknown account/code,
        unsupported token)". A frame that decrypts to nothing sensible is treated as damaged
        (NAK, as pysiaalarm does for a wrong key); one with no key configured for its account
        is an account this receiver cannot process (DUH)."""
        return "DUH" if self in (Reason.UNKNOWN_TOKEN, Reason.NO_KEY) else "NAK"


@dataclass(frozen=True, slots=True)
class Header:
    """The fields before ``[`` that a response echoes: token as sent, SEQ, R, L and account.

    Attached to an error when the header was readable, so a receiver can still send DUH
    ("DUH"SEQ R L #acct[]) for a frame it cannot process.
    """

    token: str
    seq: str
    receiver: str | None
    line: str
    account: str


class Dc09Error(CodecError):
    """A frame that is not a valid DC-09 message; the text names the rule it breaks."""

    def __init__(self, reason: Reason, detail: str, *, header: Header | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.header = header

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the reason and header (plugins may run in another process)."""
        return (type(self), (self.reason, str(self)), {"header": self.header})
