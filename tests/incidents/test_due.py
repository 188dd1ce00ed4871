"""The escalation queue on its own: earliest first, each incident once, stale entries dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.incidents.due import DueQueue
from gateway.incidents.model import Incident, IncidentState

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def incident(n: int, due_s: float | None) -> Incident:
    due = None if due_s is None else T0 + timedelta(seconds=due_s)
    return Incident(
        id=f"inc-{n}",
        incident_class="intrusion",
        grade=2,
        plan="",
        title=f"zone {n}",
        source=f"hq/panel-1/zone-{n}",
        kind="intrusion",
        opened_at=T0,
        ack_due_at=due,
        next_escalation_at=due,
    )


def test_earliest_first_and_only_those_due() -> None:
    incidents = {i.id: i for i in (incident(1, 30), incident(2, 10), incident(3, 20))}
    queue = DueQueue()
    for i in incidents.values():
        queue.push(i)
    assert queue.earliest(incidents) == T0 + timedelta(seconds=10)
    due = queue.pop_due(incidents, T0 + timedelta(seconds=25))
    assert [i.id for i in due] == ["inc-2", "inc-3"]
    assert queue.earliest(incidents) == T0 + timedelta(seconds=30)
    assert queue.pop_due(incidents, T0 + timedelta(seconds=29)) == []


def test_acknowledged_or_rescheduled_incidents_leave_only_stale_entries() -> None:
    acked, moved, twice = incident(1, 10), incident(2, 10), incident(3, 10)
    incidents = {i.id: i for i in (acked, moved, twice)}
    queue = DueQueue()
    for i in (acked, moved, twice, twice):  # pushed twice: still escalated once
        queue.push(i)
    acked.state = IncidentState.ACKNOWLEDGED
    moved.next_escalation_at = T0 + timedelta(seconds=50)
    queue.push(moved)
    assert [i.id for i in queue.pop_due(incidents, T0 + timedelta(seconds=11))] == ["inc-3"]
    assert queue.earliest(incidents) == T0 + timedelta(seconds=50)
    assert [i.id for i in queue.pop_due(incidents, T0 + timedelta(seconds=60))] == ["inc-2"]
    assert queue.earliest(incidents) is None and len(queue) == 0


def test_an_incident_without_a_time_is_not_queued() -> None:
    queue = DueQueue()
    queue.push(incident(1, None))
    assert len(queue) == 0
