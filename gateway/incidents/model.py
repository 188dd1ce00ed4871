"""An incident and the one function that changes it: :func:`apply` of an ``incident.*`` event.

The journal is the incident's history and its truth. Every change is first journaled as an
``incident.*`` event and then applied; :func:`apply` is idempotent and only ever moves an
incident forward (``new → acknowledged → closed``), so applying an event twice, or replaying the
journal after a crash, leaves the same incident.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.common import UtcDatetime
from gateway.model.event import Event

MAX_TRIGGERS = 100
"""Alarm ids kept on an incident; a chattering zone counts on in ``alarm_count``."""
MAX_NOTES = 200
"""Notes kept on an incident (the first ones); later ones count on in ``notes_omitted`` and,
like every note, are in the journal as ``incident.noted`` records."""


class IncidentState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


_ORDER = {IncidentState.NEW: 0, IncidentState.ACKNOWLEDGED: 1, IncidentState.CLOSED: 2}


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    """The ``incident.*`` event that carried it (so a replay adds it once)."""
    at: UtcDatetime
    by: str
    text: str = Field(max_length=4000)


class PoliceReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required: bool = False
    receipt_at: UtcDatetime | None = None
    receipt_by: str | None = None
    reference: str | None = None


class Incident(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    incident_class: str = Field(alias="class")
    grade: int = Field(ge=1, le=4)
    plan: str = ""
    title: str
    state: IncidentState = IncidentState.NEW
    source: str
    kind: str
    area: str | None = None
    zone: str | None = None
    opened_at: UtcDatetime
    opened_by: str = "alarm"
    """``alarm`` (its class matched), or ``rule:<name>``."""
    triggers: list[str] = Field(default_factory=list)
    alarm_count: int = 1
    seen_seq: int = 0
    """The journal position of the last alarm or restore counted on this incident: a repeat of
    the same alarm joins the incident without a record of its own (it is in the journal
    already), and a replay after a restart counts nothing twice."""
    restored_at: UtcDatetime | None = None
    ack_due_at: UtcDatetime | None = None
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: str | None = None
    closed_at: UtcDatetime | None = None
    closed_by: str | None = None
    disposition: str | None = None
    escalations: int = 0
    next_escalation_at: UtcDatetime | None = None
    police: PoliceReport = Field(default_factory=PoliceReport)
    notes: list[Note] = Field(default_factory=list)
    notes_omitted: int = 0
    """Notes beyond the first ``MAX_NOTES``: not repeated here, each one in the journal."""
    notes_seq: int = 0
    """The journal position of the last note counted, so a replay counts none twice."""

    @property
    def is_open(self) -> bool:
        return self.state is not IncidentState.CLOSED

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def incident_id_of(event: Event) -> str | None:
    """The incident an ``incident.*`` event is about."""
    if event.kind == "incident.opened":
        body = event.data.get("incident")
        return str(body["id"]) if isinstance(body, dict) and "id" in body else None
    value = event.data.get("incident")
    return value if isinstance(value, str) else None


def apply(incidents: dict[str, Incident], event: Event) -> Incident | None:
    """Apply one ``incident.*`` event; the incident it changed, or None if it changed nothing."""
    if event.kind == "incident.opened":
        body = event.data.get("incident")
        if not isinstance(body, dict) or body.get("id") in incidents:
            return None
        opened = Incident.model_validate(body)
        _note_from(opened, event)
        incidents[opened.id] = opened
        return opened
    key = incident_id_of(event)
    incident = incidents.get(key) if key else None
    if incident is None:
        return None
    changed = _CHANGES.get(event.kind, _nothing)(incident, event)
    return incident if changed else None


def join(incident: Incident, trigger_id: str, seq: int) -> bool:
    """Count another alarm of the same source and kind on the open incident."""
    if seq <= incident.seen_seq:
        return False
    incident.seen_seq = seq
    if len(incident.triggers) < MAX_TRIGGERS:
        incident.triggers.append(trigger_id)
    incident.alarm_count += 1
    incident.restored_at = None  # the condition is back
    return True


def _restored(incident: Incident, event: Event) -> bool:
    seq = event.data.get("trigger_seq")
    if not isinstance(seq, int) or seq <= incident.seen_seq:
        return False
    incident.seen_seq = seq
    incident.restored_at = event.occurred_at
    return True


def _acknowledged(incident: Incident, event: Event) -> bool:
    if not _advance(incident, IncidentState.ACKNOWLEDGED):
        return False
    incident.acknowledged_at = event.received_at
    incident.acknowledged_by = event.user
    incident.next_escalation_at = None
    _note_from(incident, event)
    return True


def _escalated(incident: Incident, event: Event) -> bool:
    n = event.data.get("n")
    if not isinstance(n, int) or n <= incident.escalations:
        return False
    incident.escalations = n
    following = event.data.get("next_at")
    incident.next_escalation_at = (
        datetime.fromisoformat(following) if isinstance(following, str) else None
    )
    return True


def _noted(incident: Incident, event: Event) -> bool:
    return _note_from(incident, event)


def _police_receipt(incident: Incident, event: Event) -> bool:
    if incident.police.receipt_at is not None:
        return False
    reference = event.data.get("reference")
    incident.police = incident.police.model_copy(
        update={
            "receipt_at": event.received_at,
            "receipt_by": event.user,
            "reference": reference if isinstance(reference, str) else None,
        }
    )
    _note_from(incident, event)
    return True


def _closed(incident: Incident, event: Event) -> bool:
    if not _advance(incident, IncidentState.CLOSED):
        return False
    incident.closed_at = event.received_at
    incident.closed_by = event.user
    incident.next_escalation_at = None
    disposition = event.data.get("disposition")
    incident.disposition = disposition if isinstance(disposition, str) else None
    _note_from(incident, event)
    return True


def _nothing(incident: Incident, event: Event) -> bool:
    return False


def _advance(incident: Incident, to: IncidentState) -> bool:
    if _ORDER[to] <= _ORDER[incident.state]:
        return False
    incident.state = to
    return True


def _note_from(incident: Incident, event: Event) -> bool:
    text = event.data.get("note")
    if not isinstance(text, str) or not text or any(n.id == event.id for n in incident.notes):
        return False
    if event.seq is not None:
        if event.seq <= incident.notes_seq:
            return False  # read again after a restart, or applied when it was written
        incident.notes_seq = event.seq
    if len(incident.notes) < MAX_NOTES:
        incident.notes.append(
            Note(id=event.id, at=event.received_at, by=event.user or "system", text=text)
        )
    elif event.seq is not None:  # only a journaled note can be counted once and for all
        incident.notes_omitted += 1
    return True


_CHANGES = {
    "incident.restored": _restored,
    "incident.acknowledged": _acknowledged,
    "incident.escalated": _escalated,
    "incident.noted": _noted,
    "incident.police_receipt": _police_receipt,
    "incident.closed": _closed,
}
