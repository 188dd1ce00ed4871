"""Contact ID messages (SIA DC-05): 16 digits in, a typed message out; no I/O.

``ACCT MT Q XYZ GG CCC S`` — account 4, message type 2 (18, or 98 which receivers "shall accept"
too), event qualifier 1, event code 3, group/partition 2, zone or user 3, checksum 1. Digits are
0-9 and B-F (hex ``A`` is unused: ``0`` carries the value 10). Text from an IP or serial gateway is
in hex notation; a DTMF decoder writes the same digits as ``* # A B C`` (``Notation.DTMF``).

Spaces, tabs and line ends anywhere are ignored, so ``1234 18 1131 01 015 8`` reads like
``1234181131010158``. Encapsulations (DC-09 ``ADM-CID``, serial receiver lines) are their own
codecs' job; they hand the fields to :class:`ContactIdMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugins.contact_id import codes
from plugins.contact_id.checksum import DIGITS, checksum_digit, digit_sum
from plugins.contact_id.codes import CccIs
from plugins.contact_id.errors import ContactIdError

MESSAGE_DIGITS = 16
MAX_FRAME_BYTES = 64
"""Longest frame looked at: 16 digits with a space between each and line ends fit four times
over; anything longer is refused before it is scanned (h11 bounds its buffer the same way)."""

_SPACE = " \t\r\n"


class Notation(StrEnum):
    """How the digits B-F are written: hex text (IP/serial gateways) or DTMF keys."""

    HEX = "hex"
    DTMF = "dtmf"


_DTMF_TO_HEX = {"*": "B", "#": "C", "A": "D", "B": "E", "C": "F"}
"""DC-05 DTMF keys for the values 11-15 (spandsp and Asterisk agree; DTMF ``D`` is unused)."""


class MessageType(StrEnum):
    """DC-05: senders use 18; 98 is optional and receivers shall accept either."""

    PREFERRED = "18"
    OPTIONAL = "98"


OTHER_FORMATS = {
    "17": "Ademco Express 4+1",
    "27": "Ademco Express 4+2",
    "55": "Ademco High Speed",
    "56": "Ademco Super Fast",
}
"""Message types Asterisk and spandsp know for other Ademco formats, named in the error."""


class Qualifier(StrEnum):
    """The event qualifier; for open/close codes 1 is an opening (disarm), 3 a closing (arm)."""

    NEW = "1"
    RESTORE = "3"
    STATUS = "6"  # previously reported condition still present

    @property
    def letter(self) -> str:
        """E/R as receivers print them (Ademco 685 printouts: ``E110``, ``R110``).

        No printout of a qualifier-6 report was found; ``P`` (previous) is this codec's choice.
        """
        return {"1": "E", "3": "R", "6": "P"}[self.value]


@dataclass(frozen=True, slots=True)
class Frame:
    """The 16 digits split into fields (hex notation) before any field is judged."""

    account: str
    message_type: str
    qualifier: str
    event_code: str
    group: str
    ccc: str
    checksum: str

    @property
    def digits(self) -> str:
        return "".join(
            (
                self.account,
                self.message_type,
                self.qualifier,
                self.event_code,
                self.group,
                self.ccc,
                self.checksum,
            )
        )

    @property
    def expected_checksum(self) -> str:
        return checksum_digit(self.digits[:15])

    @property
    def checksum_ok(self) -> bool:
        return digit_sum(self.digits) % 15 == 0


_MESSAGE_TYPES = frozenset(m.value for m in MessageType)
_QUALIFIERS = frozenset(q.value for q in Qualifier)


def _number(field: str) -> str:
    """A zone, user or group number without leading zeros (``015`` → ``15``)."""
    return field.lstrip("0") or "0"


@dataclass(frozen=True, slots=True)
class ContactIdMessage:
    """One Contact ID report, fields as sent (hex notation, leading zeros kept)."""

    account: str
    message_type: MessageType
    qualifier: Qualifier
    event_code: str
    group: str
    ccc: str
    checksum: str
    checksum_ok: bool = True

    @property
    def ccc_is(self) -> CccIs:
        """Whether CCC is a zone or a user number: per code, from the code table."""
        return codes.ccc_is(self.event_code)

    @property
    def zone(self) -> str | None:
        """The zone number when CCC is a zone and not 000 (000: the panel itself)."""
        return _number(self.ccc) if self.ccc_is == "zone" and _number(self.ccc) != "0" else None

    @property
    def user(self) -> str | None:
        return _number(self.ccc) if self.ccc_is == "user" and _number(self.ccc) != "0" else None

    @property
    def area(self) -> str | None:
        """The group (partition) number; group 00 means none."""
        number = _number(self.group)
        return None if number == "0" else number

    @property
    def code(self) -> str:
        """The report as receivers print it, e.g. ``E131`` or ``R401``."""
        return f"{self.qualifier.letter}{self.event_code}"

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (what ``anfang decode`` prints as ``message``)."""
        out: dict[str, Any] = {
            "account": self.account,
            "message_type": self.message_type.value,
            "qualifier": self.qualifier.value,
            "event_code": self.event_code,
            "group": self.group,
            "ccc": self.ccc,
            "ccc_is": self.ccc_is,
        }
        if self.zone is not None:
            out["zone"] = self.zone
        if self.user is not None:
            out["user"] = self.user
        out["checksum"] = self.checksum
        out["checksum_ok"] = self.checksum_ok
        return out


def _text(data: bytes | str) -> str:
    if len(data) > MAX_FRAME_BYTES:
        raise ContactIdError(
            f"frame of {len(data)} bytes is too long for a Contact ID message "
            f"({MESSAGE_DIGITS} digits; at most {MAX_FRAME_BYTES} bytes with spacing)"
        )
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ContactIdError(
                f"byte 0x{data[exc.start]:02x} at position {exc.start + 1} is not ASCII text"
            ) from None
    return "".join(ch for ch in text if ch not in _SPACE).upper()


def _to_hex(text: str, notation: Notation) -> str:
    """Check every character and return the digits in hex notation."""
    out = []
    for position, ch in enumerate(text, start=1):
        if notation is Notation.DTMF:
            if ch.isdigit() and ch.isascii():
                out.append(ch)
            elif ch in _DTMF_TO_HEX:
                out.append(_DTMF_TO_HEX[ch])
            elif ch == "D":
                raise ContactIdError(f"DTMF 'D' at position {position} is not used in Contact ID")
            else:
                raise ContactIdError(
                    f"{ch!r} at position {position} is not a Contact ID DTMF digit (0-9, *, #, A-C)"
                )
        elif ch in DIGITS:
            out.append(ch)
        elif ch == "A":
            raise ContactIdError(
                f"hex digit 'A' at position {position} is not used in Contact ID "
                "(0 carries the value 10)"
            )
        else:
            raise ContactIdError(
                f"{ch!r} at position {position} is not a Contact ID digit (0-9, B-F)"
            )
    return "".join(out)


def split(data: bytes | str, notation: Notation = Notation.HEX) -> Frame:
    """Check length and digits and split the fields; the checksum and fields are not judged."""
    text = _text(data)
    if len(text) != MESSAGE_DIGITS:
        raise ContactIdError(f"a Contact ID message has {MESSAGE_DIGITS} digits, got {len(text)}")
    d = _to_hex(text, notation)
    return Frame(d[0:4], d[4:6], d[6], d[7:10], d[10:12], d[12:15], d[15])


def parse(
    data: bytes | str, notation: Notation = Notation.HEX, *, verify_checksum: bool = True
) -> ContactIdMessage:
    """A checked Contact ID message, or ContactIdError naming the first rule broken.

    The checksum is judged before the fields: a digit garbled on the line shows as a bad
    checksum, the reason a receiver withholds the kissoff. ``verify_checksum=False`` keeps a
    bad checksum as ``checksum_ok=False`` instead (for diagnostics, never for acknowledging).
    """
    frame = split(data, notation)
    if verify_checksum and not frame.checksum_ok:
        raise ContactIdError(
            f"bad checksum: expected {frame.expected_checksum}, got {frame.checksum} "
            f"(digit sum {digit_sum(frame.digits)} is not a multiple of 15)"
        )
    if frame.message_type not in _MESSAGE_TYPES:
        other = OTHER_FORMATS.get(frame.message_type)
        what = f"is {other}, not" if other else "is unknown; expected"
        raise ContactIdError(f"message type {frame.message_type} {what} Contact ID (18 or 98)")
    if frame.qualifier not in _QUALIFIERS:
        raise ContactIdError(
            f"unknown event qualifier {frame.qualifier}: Contact ID uses 1 (new event or "
            "opening), 3 (restore or closing) or 6 (status)"
        )
    return ContactIdMessage(
        account=frame.account,
        message_type=MessageType(frame.message_type),
        qualifier=Qualifier(frame.qualifier),
        event_code=frame.event_code,
        group=frame.group,
        ccc=frame.ccc,
        checksum=frame.checksum,
        checksum_ok=frame.checksum_ok,
    )
