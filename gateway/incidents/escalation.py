"""The escalation policy as a decision: for an incident nobody acknowledged, what the next
escalation is — its number, when the one after it falls due, and whom to notify, with what.

No I/O: the tracker journals what this decides (GB 50348 §6.5.9(4): unhandled alarms go up to
people and to the upper platform after a set time, repeated per policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.incidents.config import IncidentClass
from gateway.incidents.model import Incident
from gateway.model.notify import NotifyRequest


@dataclass(frozen=True)
class Escalation:
    n: int
    """Which escalation this is (1 is the first)."""
    next_at: datetime | None
    """When the next one falls due; None when this is the last the policy allows."""
    notices: list[NotifyRequest]
    overdue_s: float
    """How long past its acknowledgement time the incident is."""

    @property
    def channels(self) -> list[str]:
        return [notice.channel for notice in self.notices]


def next_escalation(incident: Incident, cls: IncidentClass | None, now: datetime) -> Escalation:
    """The escalation due now. A class removed from the config since the incident opened
    escalates once, with no notices."""
    policy = cls.escalation if cls is not None else None
    n = incident.escalations + 1
    repeat = (policy.repeat_s if policy else None) or (cls.ack_within_s if cls else None)
    last = policy is None or repeat is None or n >= policy.max
    notices = [
        NotifyRequest(
            channel=target.channel,
            to=target.to,
            subject=f"[{incident.incident_class} grade {incident.grade}] not acknowledged: "
            f"{incident.title}"[:500],
            body=notice_body(incident, n),
            incident=incident.id,
            escalation=n,
        )
        for target in (policy.notify if policy is not None else [])
    ]
    return Escalation(
        n=n,
        next_at=None if last else now + timedelta(seconds=repeat or 0),
        notices=notices,
        overdue_s=round((now - (incident.ack_due_at or now)).total_seconds(), 3),
    )


def notice_body(incident: Incident, n: int) -> str:
    """The text of an escalation notice: what, where, since when, and the plan."""
    lines = [
        f"Incident {incident.id} ({incident.incident_class}, grade {incident.grade}) has not "
        f"been acknowledged (escalation {n}).",
        f"What: {incident.title}",
        f"Where: {incident.source}" + (f", area {incident.area}" if incident.area else ""),
        f"Opened: {incident.opened_at.isoformat()}; alarms: {incident.alarm_count}",
    ]
    if incident.plan:
        lines += ["", "Response plan:", incident.plan]
    return "\n".join(lines)
