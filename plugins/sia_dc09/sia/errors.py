"""The one error type of the SIA-DCS data-block parser, with a reason a receiver can count."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk.codec import CodecError


class SiaDataReason(StrEnum):
    """Which rule of the data block was broken (a metric label, and a test's handle)."""

    ENCODING = "encoding"  # bytes that are neither UTF-8 nor Windows-1252
    TOO_LONG = "too_long"  # longer than a DC-09 message can be
    ACCOUNT = "account"  # '#' not followed by 3-16 hex digits and '|'
    MODIFIER = "modifier"  # ri/ti/pi/id (or another lower-case modifier) malformed
    CODE = "code"  # an event code that is not two capital letters
    ADDRESS = "address"  # an address that is too long
    TEXT = "text"  # ^text^ unclosed, misplaced or holding control characters
    CHARACTER = "character"  # a character the grammar has no place for
    NO_EVENT = "no_event"  # nothing but an account and modifiers


class SiaDataError(CodecError):
    """An SIA-DCS data block that cannot be read; the text names the rule it breaks.

    An event code missing from the DC-03 table is *not* an error: it is returned with
    ``known=False``, so the receiver can ACK what it can process and answer DUH (DC-09:
    "correctly received but cannot process") only when nothing in the block can be processed.
    """

    def __init__(self, reason: SiaDataReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
