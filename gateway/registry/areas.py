"""Area state: arming, bypassed zones and latched alarms, derived from the journal in order.

GB 50348-2018 §6.6.5 asks that arming state, bypasses and alarm memory survive a restart. The
state is a pure function of the journal: ``arming.*`` and ``zone.*`` events from panels, alarm
events attributed to an area, and the results of ``area.*``/``zone.*`` commands. Reading them in
journal order through a durable cursor means a crash replays a few records (each transition is
idempotent) and never applies them out of order.

Transitions, as panels keep their own alarm memory:

- ``arming.armed`` / an ``area.arm`` result ok: arming becomes ``data.mode`` (``away`` unless
  ``stay``); latched alarms are cleared (arming again acknowledges the memory);
- ``arming.disarmed`` / ``area.disarm`` ok: disarmed; latched alarms stay for the user to see;
- ``zone.bypassed`` / ``zone.bypass`` ok: the zone joins ``bypassed``; ``zone.unbypassed`` /
  ``zone.unbypass`` ok leaves it;
- any other event in phase ``alarm``: its source is latched;
- ``area.reset`` ok: latched alarms are cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.model.command import CommandResult, ResultStatus
from gateway.model.entities import Area, ArmingState
from gateway.model.event import Event
from gateway.model.kinds import Phase

AREA_ACTIONS = ("area.arm", "area.disarm", "area.reset")
ZONE_ACTIONS = ("zone.bypass", "zone.unbypass")


@dataclass(frozen=True, slots=True)
class Change:
    """What to do to an area: any of these may be None (leave as is)."""

    arming: ArmingState | None = None
    bypass: str | None = None
    unbypass: str | None = None
    latch: str | None = None
    clear_latched: bool = False


def arming_mode(value: object) -> ArmingState:
    return ArmingState.STAY if value == "stay" else ArmingState.AWAY


def change_for_event(event: Event) -> Change | None:
    if event.kind == "arming.armed":
        return Change(arming=arming_mode(event.data.get("mode")), clear_latched=True)
    if event.kind == "arming.disarmed":
        return Change(arming=ArmingState.DISARMED)
    if event.kind == "zone.bypassed":
        return Change(bypass=event.source)
    if event.kind == "zone.unbypassed":
        return Change(unbypass=event.source)
    if event.phase is Phase.ALARM:
        return Change(latch=event.source)
    return None


def change_for_result(result: CommandResult) -> Change | None:
    if result.status is not ResultStatus.OK:
        return None
    match result.action:
        case "area.arm":
            return Change(arming=arming_mode(result.data.get("mode")), clear_latched=True)
        case "area.disarm":
            return Change(arming=ArmingState.DISARMED)
        case "area.reset":
            return Change(clear_latched=True)
        case "zone.bypass":
            return Change(bypass=result.target)
        case "zone.unbypass":
            return Change(unbypass=result.target)
    return None


def apply(area: Area, change: Change, at: datetime) -> Area:
    """The area after the change; the same object when nothing changed."""
    arming = change.arming or area.arming
    bypassed = list(area.bypassed)
    latched = [] if change.clear_latched else list(area.latched)
    if change.bypass and change.bypass not in bypassed:
        bypassed.append(change.bypass)
    if change.unbypass in bypassed:
        bypassed.remove(change.unbypass)
    if change.latch and change.latch not in latched:
        latched.append(change.latch)
    if (arming, bypassed, latched) == (area.arming, area.bypassed, area.latched):
        return area
    return area.model_copy(
        update={"arming": arming, "bypassed": bypassed, "latched": latched, "changed_at": at}
    )
