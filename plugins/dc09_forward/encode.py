"""A canonical event as the data block of one DC-09 message, SIA-DCS or ADM-CID; no I/O.

An event that arrived in the receiver's own format keeps its code (``SIA:BA`` goes out as BA,
``CID:E131`` as 1131: the centre sees what the panel said, vendor codes included). Anything
else is looked up in the reversed tables (:mod:`plugins.dc09_forward.reverse`). Numbers travel
only where DC-03 / DC-05 have a place for them: ``ri`` (area) and ``id`` (user) modifiers and
the address digits in SIA; GG (area, 2 digits) and CCC (zone or user, 3 digits) in Contact ID.
What does not fit is left out and named in :attr:`Report.dropped`, so it can be counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.model.event import Event
from gateway.model.kinds import Phase
from plugins.contact_id import codes as cid_codes
from plugins.contact_id.codec import Qualifier
from plugins.dc09_forward import reverse
from plugins.dc09_forward.config import Format
from plugins.sia_dc09.dc09 import Token
from plugins.sia_dc09.sia import codes as sia_codes

Unmapped = Literal["general", "skip"]

GENERAL_SIA = {Phase.ALARM: "UA", Phase.RESTORE: "UR"}
"""DC-03 "Untyped Zone Alarm" / "Restoral": an alarm of no stated type."""
GENERAL_CID = {Phase.ALARM: ("140", "1"), Phase.RESTORE: ("140", "3")}
"""DC-05 140 "General alarm", new event / restore."""

_SIA_CODE = re.compile(r"SIA:([A-Z]{2})", re.ASCII)
_CID_CODE = re.compile(r"CID:([ERP])([0-9A-F]{3})", re.ASCII)
_CID_QUALIFIER = {q.letter: q.value for q in Qualifier}
_SIA_DIGITS = 6
"""Longest number written into an SIA block; DC-03 addresses are 1-4 digits in practice and
the receiver reads up to 16."""


@dataclass(frozen=True, slots=True)
class Report:
    token: Token
    data: str
    """The block between the brackets, ``#1234|Nri1/BA012`` or ``#1234|1130 01 012``."""
    code: str
    """What was sent, in the journal's notation: ``SIA:BA``, ``CID:E130``."""
    via: str
    """``event`` (its own code), ``table``, ``preferred``, ``alias …``, ``parent …``,
    ``general``."""
    dropped: tuple[str, ...] = ()
    """Fields of the event the format had no room for (``zone``, ``area``, ``user``)."""


def encode(event: Event, fmt: Format, account: str, unmapped: Unmapped) -> Report | None:
    """The block reporting ``event`` under ``account``, or None when no code reports it."""
    if fmt is Format.SIA_DCS:
        return _sia(event, account, unmapped)
    return _cid(event, account, unmapped)


def _digits(value: str | None, width: int) -> str | None:
    """A number that fits ``width`` digits, or None."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > width:
        return None
    return value


def _sia(event: Event, account: str, unmapped: Unmapped) -> Report | None:
    own = _SIA_CODE.fullmatch(event.code or "")
    address_is: str
    if own is not None:
        code, via = own.group(1), "event"
        spec = sia_codes.lookup(code)
        address_is = spec.address if spec is not None else "zone"
    else:
        choice = reverse.sia_for(event.kind, event.phase)
        if choice is None:
            general = GENERAL_SIA.get(event.phase) if unmapped == "general" else None
            if general is None:
                return None
            code, address_is, via = general, "zone", "general"
        else:
            code, address_is, via = choice.code, choice.address, choice.via
    dropped: list[str] = []
    area = _known(event.area, _SIA_DIGITS, "area", dropped)
    user = _known(event.user, _SIA_DIGITS, "user", dropped)
    zone = _known(event.zone, _SIA_DIGITS, "zone", dropped)
    address = {"zone": zone, "user": user, "area": area}.get(address_is)
    if address is None and address_is == "none":
        address = _digits(_str(event.data.get("address")), _SIA_DIGITS)
    items = []
    if area is not None and address_is != "area":
        items.append(f"ri{area}")
    if user is not None and address_is != "user":
        items.append(f"id{user}")
    if zone is not None and address_is != "zone":
        dropped.append("zone")  # the code's address names something else
    items.append(code + (address.zfill(3) if address is not None else ""))
    data = f"#{account}|N" + "/".join(items)
    return Report(Token.SIA_DCS, data, f"SIA:{code}", via, tuple(dropped))


def _cid(event: Event, account: str, unmapped: Unmapped) -> Report | None:
    own = _CID_CODE.fullmatch(event.code or "")
    ccc_is: str
    if own is not None:
        qualifier, code, via = _CID_QUALIFIER[own.group(1)], own.group(2), "event"
        ccc_is = cid_codes.ccc_is(code)
    else:
        choice = reverse.cid_for(event.kind, event.phase)
        if choice is None:
            general = GENERAL_CID.get(event.phase) if unmapped == "general" else None
            if general is None:
                return None
            (code, qualifier), ccc_is, via = general, "zone", "general"
        else:
            code, qualifier, ccc_is, via = (
                choice.code,
                choice.qualifier,
                choice.ccc_is,
                choice.via,
            )
    dropped: list[str] = []
    group = _known(event.area, 2, "area", dropped)
    number = event.user if ccc_is == "user" else event.zone
    ccc = _known(number, 3, ccc_is, dropped)
    other = event.zone if ccc_is == "user" else event.user
    if other is not None:
        dropped.append("zone" if ccc_is == "user" else "user")
    data = f"#{account}|{qualifier}{code} {(group or '0').zfill(2)} {(ccc or '0').zfill(3)}"
    letter = Qualifier(qualifier).letter
    return Report(Token.ADM_CID, data, f"CID:{letter}{code}", via, tuple(dropped))


def _known(value: str | None, width: int, name: str, dropped: list[str]) -> str | None:
    """``value`` when it is a number of at most ``width`` digits; otherwise None, and its
    name in ``dropped`` when there was something to lose."""
    number = _digits(value, width)
    if number is None and value is not None:
        dropped.append(name)
    return number


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
