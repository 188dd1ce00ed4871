"""Incidents through their whole life on a real gateway: open, join, restore, acknowledge, the
police receipt, close — each change journaled as an ``incident.*`` event."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.incidents.model import IncidentState
from gateway.incidents.tracker import IncidentError
from gateway.model.kinds import Phase
from tests.incidents.helpers import caught_up, only_incident, records
from tests.rules.helpers import emit, started


async def test_an_alarm_opens_an_incident_of_its_class_and_repeats_join_it(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path, "")
    try:
        first = await emit(gw, "panic.holdup", source="hq/panel-1/zone-9", text="Teller 2")
        second = await emit(gw, "panic.holdup", source="hq/panel-1/zone-9")
        incident = await only_incident(gw)
        assert incident.incident_class == "hold-up"
        assert incident.grade == 1
        assert incident.title == "Teller 2"
        assert incident.triggers == [first.id, second.id]
        assert incident.alarm_count == 2
        assert incident.police.required
        assert "police" in incident.plan
        opened = records(gw, "incident.opened")
        assert len(opened) == 1  # the repeat joined without a record of its own
        assert opened[0].priority == 1 and opened[0].data["trigger"] == first.id
        # another zone is another incident
        await emit(gw, "panic.holdup", source="hq/panel-1/zone-8")
        await caught_up(gw)
        assert len(gw.incidents.incidents) == 2
    finally:
        await gw.stop()


async def test_kinds_of_no_class_open_nothing(tmp_path: Path) -> None:
    gw = await started(tmp_path, "")
    try:
        await emit(gw, "trouble.ac_loss", source="hq/panel-1")
        await emit(gw, "test.manual", source="hq/panel-1", phase=Phase.MOMENTARY)
        await caught_up(gw)
        assert gw.incidents.incidents == {}
    finally:
        await gw.stop()


async def test_restore_is_linked_and_a_new_alarm_clears_it(tmp_path: Path) -> None:
    gw = await started(tmp_path, "")
    try:
        await emit(gw, "fire", source="hq/panel-1/zone-3")
        restore = await emit(gw, "fire", source="hq/panel-1/zone-3", phase=Phase.RESTORE)
        incident = await only_incident(gw)
        assert incident.restored_at == restore.occurred_at
        restored = records(gw, "incident.restored")
        assert [r.data["trigger"] for r in restored] == [restore.id]
        await emit(gw, "fire", source="hq/panel-1/zone-3")
        incident = await only_incident(gw)
        assert incident.restored_at is None and incident.alarm_count == 2
        assert incident.state is IncidentState.NEW  # a restore closes nothing: people do
    finally:
        await gw.stop()


async def test_acknowledge_note_police_receipt_close(tmp_path: Path) -> None:
    gw = await started(tmp_path, "")
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        incident = await only_incident(gw)
        acked = await gw.incidents.acknowledge(incident.id, "alice", "on it")
        assert acked.state is IncidentState.ACKNOWLEDGED and acked.acknowledged_by == "alice"
        assert acked.next_escalation_at is None
        with pytest.raises(IncidentError, match="already acknowledged"):
            await gw.incidents.acknowledge(incident.id, "bob")
        await gw.incidents.add_note(incident.id, "alice", "video shows a person at teller 2")
        with pytest.raises(IncidentError, match="police receipt"):
            await gw.incidents.close(incident.id, "alice", "real")
        await gw.incidents.police_receipt(incident.id, "alice", "110-2026-0042")
        closed = await gw.incidents.close(incident.id, "alice", "real", "police on site")
        assert closed.state is IncidentState.CLOSED and closed.disposition == "real"
        assert closed.police.reference == "110-2026-0042"
        assert [n.text for n in closed.notes] == [
            "on it",
            "video shows a person at teller 2",
            "police on site",
        ]
        with pytest.raises(IncidentError, match="already closed"):
            await gw.incidents.close(incident.id, "alice")
        kinds = [(r.kind, r.user) for r in records(gw, "incident")]
        assert kinds == [
            ("incident.opened", None),
            ("incident.acknowledged", "alice"),
            ("incident.noted", "alice"),
            ("incident.police_receipt", "alice"),
            ("incident.closed", "alice"),
        ]
        # a new alarm of the same source and kind after the close opens a new incident
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        await caught_up(gw)
        assert len(gw.incidents.listing("open")) == 1
        assert len(gw.incidents.listing()) == 2
    finally:
        await gw.stop()


async def test_unknown_incident_is_not_found(tmp_path: Path) -> None:
    gw = await started(tmp_path, "")
    try:
        with pytest.raises(IncidentError) as caught:
            await gw.incidents.acknowledge("nope", "alice")
        assert caught.value.not_found
    finally:
        await gw.stop()


async def test_incidents_disabled_opens_nothing(tmp_path: Path) -> None:
    gw = await started(tmp_path, "incidents: {enabled: false}\n")
    try:
        await emit(gw, "fire", source="hq/panel-1/zone-3")
        await caught_up(gw)
        assert gw.incidents.incidents == {}
    finally:
        await gw.stop()
