"""Unacknowledged incidents in order of their next escalation time.

The escalation loop asks two things: when is the next escalation due, and which are due now.
Scanning every open incident for both, on every wake-up, made an alarm flood quadratic (800
open incidents escalating at their own times: 800 wake-ups, each over 800 incidents). A heap
answers both from its top. Entries are never updated in place: an incident acknowledged,
closed or escalated again leaves a stale entry behind, dropped when it comes up.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from gateway.incidents.model import Incident, IncidentState


class DueQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, incident: Incident) -> None:
        """Note the incident's current escalation time (nothing if it has none)."""
        if incident.state is IncidentState.NEW and incident.next_escalation_at is not None:
            heapq.heappush(self._heap, (incident.next_escalation_at, incident.id))

    def earliest(self, incidents: dict[str, Incident]) -> datetime | None:
        """The next escalation time of any incident, or None."""
        heap = self._heap
        while heap:
            due, incident_id = heap[0]
            if _current(incidents.get(incident_id), due):
                return due
            heapq.heappop(heap)
        return None

    def pop_due(self, incidents: dict[str, Incident], now: datetime) -> list[Incident]:
        """The incidents whose escalation time has come, earliest first, each once. Push back
        any that could not be escalated: they are no longer in the queue."""
        heap = self._heap
        due_now: list[Incident] = []
        taken: set[str] = set()
        while heap and heap[0][0] <= now:
            due, incident_id = heapq.heappop(heap)
            incident = incidents.get(incident_id)
            if incident is not None and incident_id not in taken and _current(incident, due):
                taken.add(incident_id)
                due_now.append(incident)
        return due_now


def _current(incident: Incident | None, due: datetime) -> bool:
    return (
        incident is not None
        and incident.state is IncidentState.NEW
        and incident.next_escalation_at == due
    )
