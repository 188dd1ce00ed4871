"""Correlation windows: N matching events within T seconds (two zones in 60 s = confirmed).

Times are the events' own ``received_at`` (the gateway's clock when each arrived), not the time
the engine reads them, so a replay after a restart counts exactly as the live run did.
"""

from __future__ import annotations

from collections import deque

from gateway.model.event import Event
from gateway.rules.facts import Facts
from gateway.rules.model import Correlate, GroupBy


def group_key(per: GroupBy, event: Event, facts: Facts) -> str:
    """Which window an event counts in: one for all, or one per area, source or device."""
    if per is GroupBy.NONE:
        return ""
    if per is GroupBy.SOURCE:
        return event.source
    if per is GroupBy.DEVICE:
        return "/".join(event.source.split("/")[:2])
    area = facts.area_of(event.source, event.area)
    return area.name if area is not None else (event.area or "")


def distinct_value(field: str | None, event: Event) -> str:
    if field is None:
        return event.id  # every event counts
    if field == "device":
        return "/".join(event.source.split("/")[:2])
    value = getattr(event, field)
    return str(value) if value is not None else ""


class Window:
    """The recent matching events of one correlation condition, per group."""

    def __init__(self, spec: Correlate) -> None:
        self.spec = spec
        self._seen: dict[str, deque[tuple[float, str, str]]] = {}

    def add(self, event: Event, at: float, group: str) -> None:
        entries = self._seen.setdefault(group, deque())
        if any(eid == event.id for _, eid, _ in entries):
            return  # the same event read twice (a replay) counts once
        entries.append((at, event.id, distinct_value(self.spec.distinct, event)))
        self._prune(entries, at)

    def _prune(self, entries: deque[tuple[float, str, str]], now: float) -> None:
        while entries and entries[0][0] < now - self.spec.within_s:
            entries.popleft()

    def count(self, at: float, group: str) -> int:
        entries = self._seen.get(group, deque())
        low = at - self.spec.within_s
        return len({value for t, _, value in entries if low <= t <= at})

    def check(self, event: Event, at: float, group: str) -> str | None:
        n = self.count(at, group)
        if n >= self.spec.count:
            return None
        what = f"different {self.spec.distinct}s" if self.spec.distinct else "matching events"
        return f"{n} of {self.spec.count} {what} within {self.spec.within_s:g} s"
