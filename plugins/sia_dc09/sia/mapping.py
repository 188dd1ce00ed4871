"""SIA-DCS events as canonical events: the DC-03 code table plus Contact ID's addressing rule.

The panel is ``<site>/acct-<ACCOUNT>`` and a zone ``<site>/acct-<ACCOUNT>/zone-<n>``, exactly as
for Contact ID (n without leading zeros; zone 0 is the panel itself), so a panel that reports
in both formats lands on the same addresses. What the address digits name comes from the code
table: a zone (the source point), a user (``user``), an area (``area`` when no ``ri`` is sent)
or something else (a door, relay or printer number: kept in ``data.address`` beside
``data.address_is``, never made a zone). ``ri`` is the area and ``id`` the user when the address
does not name one.

An event whose code the table does not list is never dropped: it becomes ``sia_dc09.unmapped``
as an alarm (an unknown code may be one), and ``code``, ``data`` and ``raw`` keep what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from gateway.model.event import Event
from gateway.model.kinds import KindRegistry, Phase
from gateway.sdk.codec import DecodeContext
from plugins.sia_dc09.sia import codes
from plugins.sia_dc09.sia.codes import CodeSpec
from plugins.sia_dc09.sia.data import SiaEvent
from plugins.sia_dc09.sia.kinds import UNMAPPED

PROTOCOL = "sia-dcs"

_CORE = KindRegistry()


def device_id(account: str) -> str:
    """The panel's device id, the same as Contact ID's (``acct-<ACCOUNT>``)."""
    return f"acct-{account}"


def point_id(zone: str) -> str:
    return f"zone-{zone}"


def _some(number: str | None) -> str | None:
    """A number that names something: 0 (zone 000, area 00, user 0) names nothing."""
    return None if number is None or number == "0" else number


def _fields(
    event: SiaEvent, spec: CodeSpec | None
) -> tuple[str | None, str | None, str | None, dict[str, Any]]:
    """Zone, user, area, and the data the address leaves behind, per the code's address."""
    address_is = spec.address if spec is not None else "none"
    zone = _some(event.address) if address_is == "zone" else None
    user = _some(event.address) if address_is == "user" else None
    area = _some(event.area)
    if area is None and address_is == "area":
        area = _some(event.address)
    if user is None:
        user = _some(event.user_id)
    extra: dict[str, Any] = {}
    if event.address is not None:
        extra["address"] = event.address
        if address_is == "none" and spec is not None:
            extra["address_is"] = spec.concerns
    return zone, user, area, extra


def _data(account: str, event: SiaEvent, extra: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"account": account, "new": event.new, **extra}
    modifiers = event.modifiers()
    if modifiers:
        data["modifiers"] = modifiers
    if event.text is not None:
        data["text"] = event.text
    if event.trailing is not None:
        data["trailing"] = event.trailing
    return data


def sia_to_events(
    account: str,
    events: Iterable[SiaEvent],
    ctx: DecodeContext,
    *,
    occurred_at: datetime | None,
    raw: str | None,
    frame: Mapping[str, Any] | None = None,
    plugin: str | None = None,
) -> list[Event]:
    """One canonical event per SIA event, in block order.

    ``account`` is the frame header's (DC-09 ``#acct``), ``occurred_at`` the message timestamp
    (``ctx.now`` when the frame carried none), ``raw`` the frame as text for audit. ``frame``,
    when given, is stored as ``data.dc09`` with each event's index ``i`` and the count ``n``;
    ``plugin`` is the receiving instance. (Built in one go: copying events costs a receiver.)
    """
    out: list[Event] = []
    events = list(events)
    for index, event in enumerate(events):
        spec = codes.lookup(event.code)
        zone, user, area, extra = _fields(event, spec)
        data = _data(account, event, extra)
        if spec is not None:
            kind, phase = spec.kind, spec.phase
            priority = spec.priority or _CORE.get(kind).priority
            data.update(spec.data)
            text = spec.text
        else:
            kind, phase, priority = UNMAPPED.name, Phase.ALARM, UNMAPPED.priority
            text = f"SIA event {event.code} (not in the DC-03 code table)"
            data["unmapped"] = "event code not in the DC-03 code table"
        if frame is not None:
            data["dc09"] = {**frame, "i": index, "n": len(events)}
        device = device_id(account)
        out.append(
            Event(
                kind=kind,
                phase=phase,
                priority=priority,
                source=ctx.address(device, point_id(zone) if zone is not None else None),
                area=area,
                zone=zone,
                user=user,
                occurred_at=occurred_at or ctx.now,
                received_at=ctx.now,
                protocol=PROTOCOL,
                code=f"SIA:{event.code}",
                text=text,
                data=data,
                raw=raw,
                plugin=plugin,
            )
        )
    return out
