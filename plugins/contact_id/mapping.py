"""Contact ID messages as canonical events: the code table plus the default addressing rule.

The panel is ``<site>/acct-<ACCOUNT>`` and a zone ``<site>/acct-<ACCOUNT>/zone-<n>`` (n without
leading zeros; zone 000 is the panel itself). A receiver that maps accounts to sites, or unknown
accounts to ``unknown-<account>``, passes its own addresser in the DecodeContext.

A report the table cannot map (a vendor code, or a qualifier the code gives no meaning, such as 6
on an open/close code) is never dropped: it becomes ``contact_id.unmapped`` with its priority from
the DC-05 category digit, and ``code`` and ``raw`` keep what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.model.event import Event
from gateway.model.kinds import CONDITION, KindRegistry, KindSpec
from gateway.sdk.codec import DecodeContext
from plugins.contact_id import codes
from plugins.contact_id.codec import ContactIdMessage
from plugins.contact_id.codes import QUALIFIER_PHASE

PROTOCOL = "contact-id"
NAMESPACE = "contact_id"

UNMAPPED = KindSpec(
    f"{NAMESPACE}.unmapped",
    "A Contact ID report the code table cannot map (vendor code, or a qualifier the code does "
    "not define); code and raw keep what was sent",
    2,
    CONDITION,
)

_CATEGORY_PRIORITY = {"1": 1, "2": 3, "3": 3, "4": 4, "5": 4, "6": 4}
"""DC-05 categories by first digit: 1xx alarms, 2xx supervisory, 3xx troubles, 4xx open/close,
5xx bypass, 6xx test; an unknown alarm-range code is treated as urgent, anything else as the
unmapped kind's default."""

_CORE = KindRegistry()


def device_id(account: str) -> str:
    return f"acct-{account}"


def point_id(zone: str) -> str:
    return f"zone-{zone}"


def source(message: ContactIdMessage, ctx: DecodeContext) -> str:
    """The panel, or the zone when CCC names a zone other than 000."""
    zone = message.zone
    device = device_id(message.account)
    return ctx.address(device, point_id(zone) if zone is not None else None)


def to_events(
    message: ContactIdMessage,
    ctx: DecodeContext,
    raw: str | None = None,
    *,
    occurred_at: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
    plugin: str | None = None,
) -> list[Event]:
    """The canonical event for one report (a list, as the codec contract has it).

    A carrier protocol (DC-09's ADM-CID) passes its own time, data and receiving instance, so
    the event is built once, not copied."""
    q = message.qualifier.value
    spec = codes.lookup(message.event_code)
    kind = spec.kind_for(q) if spec is not None else None
    data: dict[str, Any] = {"account": message.account, **(extra or {})}
    if spec is not None and kind is not None:
        phase = spec.phase_for(q)
        priority = spec.priority or _CORE.get(kind).priority
        data.update(spec.data)
        text = spec.description
    else:
        kind, phase = UNMAPPED.name, QUALIFIER_PHASE[q]
        priority = _CATEGORY_PRIORITY.get(message.event_code[0], UNMAPPED.priority)
        if spec is None:
            text = f"Contact ID event {message.event_code} (not in the code table)"
            data["unmapped"] = "event code not in the code table"
        else:
            text = spec.description
            data["unmapped"] = f"qualifier {q} has no meaning for code {message.event_code}"
    return [
        Event(
            kind=kind,
            phase=phase,
            priority=priority,
            source=source(message, ctx),
            area=message.area,
            zone=message.zone,
            user=message.user,
            occurred_at=occurred_at or ctx.now,
            received_at=ctx.now,
            plugin=plugin,
            protocol=PROTOCOL,
            code=f"CID:{message.code}",
            text=text,
            data=data,
            raw=raw,
        )
    ]
