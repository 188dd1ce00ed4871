"""From decoded points to what the gateway hears: telemetry, alarms and restores, identity, clock.

One :class:`DeviceTracker` per device keeps what was last reported, so telemetry goes out only
on a change beyond the point's deadband or when its heartbeat is due, and an alarm kind goes out
only when it starts or ends. Several conditions may name one kind (battery charge below 25 %
*or* "shutdown imminent" → ``power.battery_low``): the kind is active while any of them is.
Sans-IO: the caller passes the monotonic time and publishes the :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plugins.modbus.planner import Block
from plugins.modbus.profile import Alarm, Profile
from plugins.modbus.values import Reading, Value, decode


@dataclass(frozen=True)
class AlarmChange:
    kind: str
    phase: str
    """``alarm`` (the condition starts) or ``restore`` (it ends)."""
    text: str
    data: dict[str, Any]


@dataclass
class Outcome:
    telemetry: dict[str, Value] = field(default_factory=dict)
    alarms: list[AlarmChange] = field(default_factory=list)
    identity: dict[str, str] | None = None
    clock: datetime | None = None
    problems: list[str] = field(default_factory=list)
    points: int = 0

    def __bool__(self) -> bool:
        return bool(self.telemetry or self.alarms or self.identity or self.clock or self.problems)


class DeviceTracker:
    def __init__(self, profile: Profile, active_kinds: Iterable[str] = ()) -> None:
        self.profile = profile
        self.values: dict[str, Reading] = {}
        self._sent: dict[str, tuple[Value, float]] = {}
        self._by_point: dict[str, list[int]] = {}
        for i, alarm in enumerate(profile.alarms):
            self._by_point.setdefault(alarm.point, []).append(i)
        self._conditions: list[bool | None] = [None] * len(profile.alarms)
        self.active: set[str] = set(active_kinds)
        """Kinds in alarm (seeded from the instance state, so a restore survives a restart)."""
        self._identity: dict[str, str] = {}
        self._orders = {
            name: (profile.word_order(p), profile.byte_order(p))
            for name, p in profile.points.items()
        }

    def update(self, block: Block, words: Sequence[int], now: float) -> Outcome:
        out = Outcome()
        touched: set[str] = set()
        profile = self.profile
        for name in block.points:
            point = profile.points[name]
            at = point.address - block.start
            word_order, byte_order = self._orders[name]
            reading = decode(point, words[at : at + point.size], word_order, byte_order)
            self.values[name] = reading
            out.points += 1
            if reading.problem is not None:
                out.problems.append(f"{name}: {reading.problem}")
                continue
            if (
                point.telemetry
                and reading.value is not None
                and self._due(name, reading.value, now)
            ):
                out.telemetry[name] = reading.value
                self._sent[name] = (reading.value, now)
            if name in self._by_point:
                touched.update(self._evaluate(name, reading))
        for kind in sorted(touched):
            change = self._kind_change(kind)
            if change is not None:
                out.alarms.append(change)
        out.identity = self._identity_change(block)
        out.clock = self._clock(block)
        return out

    def _due(self, name: str, value: Value, now: float) -> bool:
        previous = self._sent.get(name)
        if previous is None:
            return True
        last, at = previous
        heartbeat = self.profile.heartbeat(self.profile.points[name])
        if heartbeat is not None and now - at >= heartbeat:
            return True
        deadband = self.profile.points[name].deadband
        if deadband and isinstance(value, int | float) and isinstance(last, int | float):
            return abs(value - last) >= deadband
        return value != last

    def _evaluate(self, name: str, reading: Reading) -> set[str]:
        kinds = set()
        for i in self._by_point[name]:
            alarm = self.profile.alarms[i]
            state = _condition(alarm, reading, self._conditions[i])
            if state is not None:
                self._conditions[i] = state
            kinds.add(alarm.kind)
        return kinds

    def _kind_change(self, kind: str) -> AlarmChange | None:
        indexes = [i for i, a in enumerate(self.profile.alarms) if a.kind == kind]
        states = [self._conditions[i] for i in indexes]
        on = [i for i in indexes if self._conditions[i]]
        if on and kind not in self.active:
            self.active.add(kind)
            alarm = self.profile.alarms[on[0]]
            return AlarmChange(kind, "alarm", self._text(alarm), self._data(on))
        if not on and kind in self.active and all(s is not None for s in states):
            self.active.discard(kind)
            alarm = self.profile.alarms[indexes[0]]
            return AlarmChange(
                kind, "restore", f"{self._text(alarm)}: cleared", self._data(indexes)
            )
        return None

    def _text(self, alarm: Alarm) -> str:
        return alarm.text or f"{alarm.kind} ({alarm.point})"

    def _data(self, indexes: list[int]) -> dict[str, Any]:
        points = {self.profile.alarms[i].point for i in indexes}
        return {
            "values": {p: _json(self.values[p].value) for p in sorted(points) if p in self.values}
        }

    def _identity_change(self, block: Block) -> dict[str, str] | None:
        ident = self.profile.identity
        if ident is None:
            return None
        found = {}
        for key in ("model", "serial", "firmware"):
            ref = getattr(ident, key)
            if ref in block.points:
                value = self.values[ref].value
                if isinstance(value, str) and value:
                    found[key] = value
        if not found or all(self._identity.get(k) == v for k, v in found.items()):
            return None
        self._identity.update(found)
        return dict(self._identity)

    def _clock(self, block: Block) -> datetime | None:
        clock = self.profile.clock
        if clock is None or clock.point not in block.points:
            return None
        value = self.values[clock.point].raw
        if not isinstance(value, int):
            return None
        try:
            return clock.epoch + timedelta(seconds=value)
        except OverflowError:
            return None


def _condition(alarm: Alarm, reading: Reading, current: bool | None) -> bool | None:
    """Whether the condition holds now; None when the reading cannot say (no value)."""
    raw, value = reading.raw, reading.value
    if alarm.bit is not None:
        return bool((raw >> alarm.bit) & 1) if isinstance(raw, int) else None
    if alarm.equals is not None:
        return raw == alarm.equals if isinstance(raw, int | float) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if alarm.below is not None:
        limit = alarm.below + (alarm.hysteresis if current else 0.0)
        return value < limit
    if alarm.above is not None:
        limit = alarm.above - (alarm.hysteresis if current else 0.0)
        return value > limit
    return None


def _json(value: Value | None) -> Any:
    return value
