"""The escalation decision on its own: numbering, the next due time, notices, the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.incidents.config import Escalation, IncidentClass, NotifyTarget
from gateway.incidents.escalation import next_escalation
from gateway.incidents.model import Incident

OPENED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def incident(escalations: int = 0) -> Incident:
    return Incident(
        id="inc-1",
        incident_class="hold-up",
        grade=1,
        plan="Call 110.",
        title="Teller 2",
        source="hq/panel-1/zone-3",
        kind="panic.holdup",
        opened_at=OPENED,
        ack_due_at=OPENED + timedelta(seconds=60),
        escalations=escalations,
    )


HOLD_UP = IncidentClass(
    name="hold-up",
    kinds=["panic"],
    grade=1,
    ack_within_s=60,
    escalation=Escalation(repeat_s=30, max=2, notify=[NotifyTarget(channel="sms", to=["+86"])]),
)


def test_the_first_escalation_sets_the_next_and_notifies() -> None:
    now = OPENED + timedelta(seconds=61)
    step = next_escalation(incident(), HOLD_UP, now)
    assert step.n == 1 and step.overdue_s == 1.0
    assert step.next_at == now + timedelta(seconds=30)
    assert [(n.channel, n.to, n.escalation, n.incident) for n in step.notices] == [
        ("sms", ["+86"], 1, "inc-1")
    ]
    assert "Teller 2" in step.notices[0].subject and "Call 110." in step.notices[0].body


def test_the_last_escalation_sets_no_next() -> None:
    step = next_escalation(incident(escalations=1), HOLD_UP, OPENED + timedelta(seconds=91))
    assert step.n == 2 and step.next_at is None


def test_a_class_removed_since_escalates_once_without_notices() -> None:
    step = next_escalation(incident(), None, OPENED + timedelta(seconds=61))
    assert (step.n, step.next_at, step.notices) == (1, None, [])
