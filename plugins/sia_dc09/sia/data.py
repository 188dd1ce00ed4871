"""The SIA-DCS data block (SIA DC-03 inside DC-09) as typed events, sans-IO.

What arrives is the text between ``[`` and ``]`` of an ``SIA-DCS`` message, after decryption
and with the encryption pad removed (DC-09 §2: text after the first ``|``)::

    #1234|Nri1/BA012              account, new event, area 1, burglary alarm zone 12
    #1234|Nri01/CL001/NBA12       two events: closing by user 1, burglary alarm zone 12
    |Nti11:22/ri3/BA5             time modifier; no account before the '|'

Grammar, DC-03 as DC-09 carries it plus the variants seen in the field::

    block    = [account] item *(["/"] item)
    account  = "#" ACCT "|"     ; DC-09
             | ACCT "|"         ; no '#' (PROSEC "[3044|NOP1]")
             | "|"              ; no account (pysiaalarm "[|Nri1/CL501]")
                                ; or nothing ("[Nri1/WA000]")
    item     = "N" | modifier | event
    modifier = ("ri" | "pi" | "id") DIGITS | "ti" hh:mm[:ss] | 2 lower-case letters [value]
    event    = CODE [DIGITS] [trailing] ["^" text "^"]     ; CODE: two capital letters

``N`` (new event) is a flag, not a code: ``NBA12`` is N + BA12 and ``NNL2`` is N + NL2, while
``NL2`` is the code NL (addresses are digits, so three capitals in a row must start with the
flag). A slash is optional between items: ``Nri1CL0^VX FRONTE ^`` (pysiaalarm fixture).
Modifiers carry over to later events of the block until replaced: in ``Nri1/BA01/BA02`` both
alarms are in area 1 (AjaxSiaCodec keeps ``ri`` the same way).

A code missing from the DC-03 table is returned with ``known=False``, not refused: the receiver
answers DUH only when nothing in the block can be processed (:attr:`SiaBlock.processable`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugins.sia_dc09.sia.codes import CODES
from plugins.sia_dc09.sia.errors import SiaDataError, SiaDataReason

MAX_BLOCK_CHARS = 4095
"""DC-09's length field ('0' + 3 hex digits) caps a whole message at 0xFFF = 4095 bytes, so no
data block inside one is longer; anything longer is refused before it is scanned."""

MAX_DIGITS = 16
"""Longest zone, user, area or peripheral number accepted. DC-03 addresses are 1-4 digits in
every capture we have (``BA012``, ``ri0000``, ``RP0000``); 16 leaves room for vendors while
keeping ``zone-<n>`` a valid address segment (at most 64 characters)."""

MAX_MODIFIER_CHARS = 64
"""Longest value of a modifier this parser does not know (kept verbatim in ``extra``)."""

_ACCOUNT_HASH = re.compile(r"#([0-9A-Fa-f]{3,16})\|", re.ASCII)
_ACCOUNT_BARE = re.compile(r"([0-9A-Fa-f]{3,16})\|", re.ASCII)
_DIGITS = re.compile(r"[0-9]*", re.ASCII)
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?", re.ASCII)
_OTHER_VALUE = re.compile(r"[0-9a-z:.,+-]*", re.ASCII)
_TRAILING = re.compile(r"[^/^]*")
_TRAILING_OK = re.compile(r"[ -~]*", re.ASCII)  # printable ASCII
_NUMBERED = frozenset({"ri", "pi", "id"})


class AccountForm(StrEnum):
    """How the block names its account; anything but ``HASH`` is a vendor variant."""

    HASH = "hash"  # '#1234|' as DC-09 writes it
    BARE = "bare"  # '1234|' without '#' (PROSEC)
    EMPTY = "empty"  # '|' with no account (pysiaalarm fixtures)
    MISSING = "missing"  # no account and no '|' at all ('Nri1/WA000')


@dataclass(frozen=True, slots=True)
class SiaEvent:
    """One event code of a block, with the modifiers in force where it stands.

    Numbers are given without leading zeros (``BA012`` → ``"12"``, ``ri0000`` → ``"0"``), as
    Contact ID's zones and groups are.
    """

    code: str
    address: str | None
    """The digits after the code: a zone, user, area or other number, per the code table."""
    known: bool
    """Whether the code is in the DC-03 table."""
    new: bool
    """An ``N`` (new event) flag preceded it in the block; DC-09 senders always send one."""
    area: str | None = None
    """``ri``: the area (partition)."""
    time: str | None = None
    """``ti``: the panel's time of day, ``hh:mm`` (or ``hh:mm:ss``) as sent, no date or zone."""
    peripheral: str | None = None
    """``pi``: the peripheral (keypad, module) that reported it."""
    user_id: str | None = None
    """``id``: the user."""
    text: str | None = None
    """The text between carets (``CL0^VX FRONTE ^`` → ``"VX FRONTE"``)."""
    extra: tuple[tuple[str, str], ...] = ()
    """Other lower-case modifiers, as sent (``da`` and vendor ones), in block order."""
    trailing: str | None = None
    """Characters after the address up to the next ``/`` that this grammar has no place for:
    ``OP001NM`` (a pysiaalarm fixture) keeps ``"NM"`` here rather than guess a second event."""

    def modifiers(self) -> dict[str, str]:
        """The modifiers under their wire names (``ri``, ``ti``, ``pi``, ``id`` and others)."""
        out = dict(self.extra)
        for name, value in (
            ("ri", self.area),
            ("ti", self.time),
            ("pi", self.peripheral),
            ("id", self.user_id),
        ):
            if value is not None:
                out[name] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values, only those that were sent."""
        out: dict[str, Any] = {"code": self.code, "known": self.known, "new": self.new}
        if self.address is not None:
            out["address"] = self.address
        modifiers = self.modifiers()
        if modifiers:
            out["modifiers"] = modifiers
        if self.text is not None:
            out["text"] = self.text
        if self.trailing is not None:
            out["trailing"] = self.trailing
        return out


@dataclass(frozen=True, slots=True)
class SiaBlock:
    """One data block: its account as written there and its events in order (at least one)."""

    account: str | None
    account_form: AccountForm
    events: tuple[SiaEvent, ...]

    @property
    def account_missing(self) -> bool:
        """The vendor variant without DC-09's ``#acct|`` (the frame header names it anyway)."""
        return self.account_form is not AccountForm.HASH

    @property
    def processable(self) -> bool:
        """Whether any event has a known code; when none has, DC-09 answers DUH."""
        return any(event.known for event in self.events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_form": self.account_form.value,
            "events": [event.to_dict() for event in self.events],
        }


def _number(digits: str) -> str:
    """A number without leading zeros (``012`` → ``12``, ``000`` → ``0``)."""
    return digits.lstrip("0") or "0"


def _text(block: str | bytes) -> str:
    if isinstance(block, str):
        return block
    if len(block) > MAX_BLOCK_CHARS:
        raise SiaDataError(
            SiaDataReason.TOO_LONG,
            f"data block of {len(block)} bytes is longer than a DC-09 message can be "
            f"({MAX_BLOCK_CHARS})",
        )
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # DC-09 extended data texts are Win-1252; panels send caret texts either way
        return block.decode("cp1252")
    except UnicodeDecodeError:
        raise SiaDataError(
            SiaDataReason.ENCODING, "data block is neither UTF-8 nor Windows-1252 text"
        ) from None


def _account(text: str) -> tuple[str | None, AccountForm, int]:
    """The account, how it was written, and where the body starts."""
    if text.startswith("#"):
        match = _ACCOUNT_HASH.match(text)
        if match is None:
            raise SiaDataError(
                SiaDataReason.ACCOUNT,
                f"'#' must be followed by a 3-16 hex digit account and '|' "
                f"(DC-09 '#acct|'), not {text[:20]!r}",
            )
        return match.group(1), AccountForm.HASH, match.end()
    if text.startswith("|"):
        return None, AccountForm.EMPTY, 1
    match = _ACCOUNT_BARE.match(text)
    if match is not None:
        return match.group(1), AccountForm.BARE, match.end()
    return None, AccountForm.MISSING, 0


def _is_upper(ch: str) -> bool:
    return "A" <= ch <= "Z"


def _is_lower(ch: str) -> bool:
    return "a" <= ch <= "z"


def _starts_new_flag(text: str, i: int) -> bool:
    """Whether the ``N`` at ``i`` is the new-event flag rather than the first letter of a code
    (NA, NL, ...): it is a code only when exactly one more capital follows."""
    nxt = text[i + 1 : i + 2]
    if not _is_upper(nxt):
        return True
    return _is_upper(text[i + 2 : i + 3])


class _Scanner:
    """Walks the body once, left to right, keeping the modifiers in force."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.i = start
        self.new = False
        self.area: str | None = None
        self.time: str | None = None
        self.peripheral: str | None = None
        self.user_id: str | None = None
        self.extra: dict[str, str] = {}
        self.events: list[SiaEvent] = []

    def run(self) -> list[SiaEvent]:
        text = self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch == "/":
                self.i += 1
            elif ch == "N" and _starts_new_flag(text, self.i):
                self.new = True
                self.i += 1
            elif _is_lower(ch):
                self._modifier()
            elif _is_upper(ch):
                self._event()
            elif ch == "^":
                raise SiaDataError(
                    SiaDataReason.TEXT,
                    f"text '^...^' at position {self.i} must follow an event code",
                )
            else:
                raise SiaDataError(
                    SiaDataReason.CHARACTER,
                    f"unexpected {ch!r} at position {self.i} of the data block",
                )
        if not self.events:
            raise SiaDataError(
                SiaDataReason.NO_EVENT,
                "data block holds no event code (only an account, N or modifiers)",
            )
        return self.events

    def _modifier(self) -> None:
        text, i = self.text, self.i
        name = text[i : i + 2]
        if len(name) < 2 or not _is_lower(name[1]):
            raise SiaDataError(
                SiaDataReason.MODIFIER,
                f"modifier at position {i} must be two lower-case letters, not {name!r}",
            )
        j = i + 2
        if name == "ti":
            match = _TIME.match(text, j)
            if match is None:
                raise SiaDataError(
                    SiaDataReason.MODIFIER,
                    f"ti at position {i} must be followed by a time hh:mm, not {text[j : j + 8]!r}",
                )
            hh, mm, ss = match.group(1), match.group(2), match.group(3)
            if int(hh) > 23 or int(mm) > 59 or (ss is not None and int(ss) > 59):
                raise SiaDataError(
                    SiaDataReason.MODIFIER, f"ti{match.group(0)} is not a time of day"
                )
            self.time = match.group(0)
            self.i = match.end()
            return
        if name in _NUMBERED:
            digits = _DIGITS.match(text, j)
            assert digits is not None  # '[0-9]*' always matches
            value = digits.group(0)
            if not value:
                raise SiaDataError(
                    SiaDataReason.MODIFIER,
                    f"{name} at position {i} must be followed by a number, not {text[j : j + 8]!r}",
                )
            if len(value) > MAX_DIGITS:
                raise SiaDataError(
                    SiaDataReason.MODIFIER,
                    f"{name} number at position {i} has {len(value)} digits (at most {MAX_DIGITS})",
                )
            number = _number(value)
            if name == "ri":
                self.area = number
            elif name == "pi":
                self.peripheral = number
            else:
                self.user_id = number
            self.i = digits.end()
            return
        other = _OTHER_VALUE.match(text, j)
        assert other is not None  # the class allows an empty match
        if other.end() - j > MAX_MODIFIER_CHARS:
            raise SiaDataError(
                SiaDataReason.MODIFIER,
                f"modifier {name} at position {i} is longer than {MAX_MODIFIER_CHARS} characters",
            )
        self.extra[name] = other.group(0)
        self.i = other.end()

    def _event(self) -> None:
        text, i = self.text, self.i
        code = text[i : i + 2]
        if len(code) < 2 or not _is_upper(code[1]):
            raise SiaDataError(
                SiaDataReason.CODE,
                f"event code at position {i} must be two capital letters, not {code!r}",
            )
        digits = _DIGITS.match(text, i + 2)
        assert digits is not None  # '[0-9]*' always matches
        value = digits.group(0)
        if len(value) > MAX_DIGITS:
            raise SiaDataError(
                SiaDataReason.ADDRESS,
                f"{code} address at position {i} has {len(value)} digits (at most {MAX_DIGITS})",
            )
        rest = _TRAILING.match(text, digits.end())
        assert rest is not None  # '[^/^]*' always matches
        trailing = rest.group(0)
        if not _TRAILING_OK.fullmatch(trailing) or any(c in trailing for c in "[]|"):
            raise SiaDataError(
                SiaDataReason.CHARACTER,
                f"unexpected characters {trailing[:20]!r} after {code}{value} "
                f"at position {digits.end()}",
            )
        j = rest.end()
        caret: str | None = None
        if j < len(text) and text[j] == "^":
            close = text.find("^", j + 1)
            if close < 0:
                raise SiaDataError(
                    SiaDataReason.TEXT, f"text opened with '^' at position {j} is not closed"
                )
            body = text[j + 1 : close]
            if not body.isprintable():
                raise SiaDataError(
                    SiaDataReason.TEXT,
                    f"text at position {j} holds control characters",
                )
            caret = body.strip() or None
            j = close + 1
        self.events.append(
            SiaEvent(
                code=code,
                address=_number(value) if value else None,
                known=code in CODES,
                new=self.new,
                area=self.area,
                time=self.time,
                peripheral=self.peripheral,
                user_id=self.user_id,
                text=caret,
                extra=tuple(self.extra.items()),
                trailing=trailing.strip() or None,
            )
        )
        self.i = j


def parse_data(block: str | bytes) -> SiaBlock:
    """The events of one SIA-DCS data block; SiaDataError names what is wrong with it."""
    return _parse_text(_text(block))


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> SiaBlock:
    """Panels send the same blocks again and again (a zone's alarm, the periodic test, an
    opening by the same user), so results are kept; a block is immutable, errors are not kept."""
    if len(text) > MAX_BLOCK_CHARS:
        raise SiaDataError(
            SiaDataReason.TOO_LONG,
            f"data block of {len(text)} characters is longer than a DC-09 message can be "
            f"({MAX_BLOCK_CHARS})",
        )
    account, form, start = _account(text)
    events = _Scanner(text, start).run()
    return SiaBlock(account, form, tuple(events))
