"""A rule made ready to judge events: patterns and predicates compiled once, reasons kept.

Every check returns ``None`` when it passes and a short reason when it does not, so the engine,
the dry run and the journal explain a linkage (or its absence) in the same words.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.journal.filters import kind_matches
from gateway.model.entities import Area, ArmingState
from gateway.model.event import Event
from gateway.rules.correlation import Window, group_key
from gateway.rules.expr import Guard, Scope, compile_expression, compile_with_guards
from gateway.rules.facts import Facts
from gateway.rules.model import Condition, Rule
from gateway.rules.schedule import describe, is_active

ARMED = frozenset({ArmingState.AWAY, ArmingState.STAY})


def event_scope(event: Event) -> dict[str, Any]:
    """The names a predicate reads, built once per event and shared by every rule."""
    return {
        "kind": event.kind,
        "phase": event.phase.value,
        "priority": event.priority,
        "source": event.source,
        "device": "/".join(event.source.split("/")[:2]),
        "area": event.area,
        "zone": event.zone,
        "user": event.user,
        "plugin": event.plugin,
        "protocol": event.protocol,
        "code": event.code,
        "text": event.text,
        "data": event.data,
    }


@dataclass(slots=True)
class Judgement:
    """Whether a rule acts on an event, and if not, why."""

    reason: str | None = None
    """None when the rule runs."""
    wait_restore_s: float | None = None
    """The run first waits this long for a restore (``not_restored``)."""


class CompiledRule:
    def __init__(self, rule: Rule, site_zone: str) -> None:
        self.rule = rule
        self.name = rule.name
        self.site_zone = site_zone
        when = rule.when
        self.kinds = tuple(when.kind)
        self.sources = tuple(when.source)
        self.areas = frozenset(when.area)
        self.phases = frozenset(p.value for p in when.phase)
        self.where: Callable[[Scope], bool] | None = None
        self.guards: list[Guard] = []
        """Equality tests ``when.where`` needs (``data.slot == 3``): the index's second key."""
        if when.where:
            self.where, self.guards = compile_with_guards(when.where)
        self.condition_where = {
            i: compile_expression(c.where) for i, c in enumerate(rule.if_) if c.where is not None
        }
        self.correlation = [Window(c.correlate) for c in rule.if_ if c.correlate is not None]
        self.needs_areas = bool(self.areas) or any(
            c.armed is not None or c.disarmed is not None for c in rule.if_
        )

    def matches_kind(self, kind: str) -> bool:
        return not self.kinds or any(kind_matches(p, kind) for p in self.kinds)

    def admits(self, event: Event, scope: Scope, facts: Facts) -> bool:
        """:meth:`check_when` for the live engine, whose kind index already matched the kind:
        the same tests, without the reason (building 99 reasons per event for the rules that
        do not match was most of the engine's time with 1,000 rules loaded)."""
        if self.phases and event.phase.value not in self.phases:
            return False
        mp = self.rule.when.max_priority
        if mp is not None and event.priority > mp:
            return False
        if self.sources and not any(fnmatch.fnmatchcase(event.source, p) for p in self.sources):
            return False
        if self.areas:
            area = facts.area_of(event.source, event.area)
            if (area.name if area is not None else event.area) not in self.areas:
                return False
        return self.where is None or bool(self.where(scope))

    def check_when(self, event: Event, scope: Scope, facts: Facts) -> str | None:
        """Why ``when`` does not match the event, or None when it does."""
        if not self.matches_kind(event.kind):
            return f"kind {event.kind} is not {' or '.join(self.kinds)}"
        if self.phases and event.phase.value not in self.phases:
            return f"phase {event.phase.value} is not {' or '.join(sorted(self.phases))}"
        mp = self.rule.when.max_priority
        if mp is not None and event.priority > mp:
            return f"priority {event.priority} is lower than {mp}"
        if self.sources and not any(fnmatch.fnmatchcase(event.source, p) for p in self.sources):
            return f"source {event.source} matches none of {', '.join(self.sources)}"
        if self.areas:
            area = facts.area_of(event.source, event.area)
            name = area.name if area is not None else event.area
            if name not in self.areas:
                return f"area {name or '(none)'} is not {' or '.join(sorted(self.areas))}"
        if self.where is not None and not self.where(scope):
            return f"where {self.rule.when.where!r} is false"
        return None

    def observe(self, event: Event, facts: Facts) -> None:
        """Count a matching event in the correlation windows (before the conditions judge)."""
        for window in self.correlation:
            window.add(event, _time(event), group_key(window.spec.per, event, facts))

    def check_conditions(self, event: Event, scope: Scope, facts: Facts, at: datetime) -> Judgement:
        """Judge every ``if`` entry in order; the first that fails is the reason."""
        wait: float | None = None
        correlations = iter(self.correlation)
        for i, cond in enumerate(self.rule.if_):
            if cond.not_restored is not None:
                if event.phase.value != "alarm":
                    return Judgement(
                        f"if[{i}]: not_restored needs an alarm, this is a {event.phase.value}"
                    )
                wait = cond.not_restored.within_s
                continue
            if cond.correlate is not None:
                window = next(correlations)
                group = group_key(cond.correlate.per, event, facts)
                reason = window.check(event, _time(event), group)
            else:
                reason = self._check(i, cond, event, scope, facts, at)
            if reason is not None:
                return Judgement(f"if[{i}]: {reason}")
        return Judgement(None, wait)

    def _check(
        self, i: int, cond: Condition, event: Event, scope: Scope, facts: Facts, at: datetime
    ) -> str | None:
        if cond.armed is not None or cond.disarmed is not None:
            want_armed = cond.armed is not None
            ref = cond.armed if want_armed else cond.disarmed
            areas = _areas(ref, event, facts)
            if isinstance(areas, str):
                return areas
            for name, area in areas:
                state = area.arming if area is not None else ArmingState.UNKNOWN
                if (state in ARMED) != want_armed or state is ArmingState.UNKNOWN:
                    wanted = "armed" if want_armed else "disarmed"
                    return f"area {name} is {state.value}, not {wanted}"
            return None
        if cond.schedule is not None:
            if is_active(cond.schedule, at, self.site_zone):
                return None
            side = "inside" if cond.schedule.outside else "outside"
            return f"{describe(cond.schedule, at, self.site_zone)} is {side} the schedule"
        if cond.device is not None:
            device = facts.device(cond.device.address)
            status = device.status.value if device is not None else "unknown (not registered)"
            if device is not None and status == cond.device.status:
                return None
            return f"device {cond.device.address} is {status}, not {cond.device.status}"
        if cond.where is not None:
            return None if self.condition_where[i](scope) else f"where {cond.where!r} is false"
        return None


def _areas(
    ref: list[str] | bool | None, event: Event, facts: Facts
) -> list[tuple[str, Area | None]] | str:
    if ref is True:
        area = facts.area_of(event.source, event.area)
        if area is None:
            return f"the event from {event.source} belongs to no known area"
        return [(area.name, area)]
    assert isinstance(ref, list)
    return [(name, facts.area(name)) for name in ref]


def _time(event: Event) -> float:
    return event.received_at.timestamp()
