"""Incidents across restarts: kept, escalated on time, and never opened twice for one alarm."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.incidents import model as incident_model
from gateway.incidents.model import IncidentState
from gateway.incidents.tracker import POSITION_KEY, POSITION_NS, STATE_NS
from gateway.journal import Journal
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.registry.statedb import StateDB
from gateway.sdk.clock import ManualClock
from tests.incidents.helpers import caught_up, only_incident, records
from tests.rules.helpers import START, emit, started, until

CLASSES = """
incidents:
  classes:
    - {name: hold-up, kinds: [panic], grade: 1, ack_within_s: 60, escalation: {max: 5}}
"""


async def test_incidents_and_their_timers_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, CLASSES, clock)
    await emit(gw, "panic", source="hq/panel-1/zone-1")
    before = await only_incident(gw)
    await gw.incidents.add_note(before.id, "alice", "calling the branch")
    await gw.stop()

    gw = await started(tmp_path, CLASSES, clock)
    try:
        after = await only_incident(gw)
        assert after == gw.incidents.get(before.id)
        assert [n.text for n in after.notes] == ["calling the branch"]
        await emit(gw, "panic", source="hq/panel-1/zone-1")  # still joins the same incident
        await caught_up(gw)
        assert gw.incidents.get(before.id).alarm_count == 2
        await clock.advance(61)
        await until(lambda: len(records(gw, "incident.escalated")) == 1, "escalated after restart")
    finally:
        await gw.stop()


async def test_an_alarm_read_again_after_a_crash_opens_no_second_incident(tmp_path: Path) -> None:
    gw = await started(tmp_path, CLASSES)
    start = gw.journal.committed_seq
    await emit(gw, "panic", source="hq/panel-1/zone-1")
    incident = await only_incident(gw)
    await gw.incidents.close(incident.id, "alice", "false")
    await gw.stop()
    # as if the process had died before the tracker saved anything after the alarm
    state = StateDB(tmp_path / "data" / "state.sqlite3")
    state.put(POSITION_NS, POSITION_KEY, start)
    state.delete(STATE_NS, incident.id)
    state.flush()
    state.close()

    gw = await started(tmp_path, CLASSES)
    try:
        await caught_up(gw)
        assert len(records(gw, "incident.opened")) == 1
        assert gw.incidents.get(incident.id).state is IncidentState.CLOSED
        assert len(gw.incidents.incidents) == 1
    finally:
        await gw.stop()


async def test_alarms_journaled_while_the_gateway_was_down_open_incidents(tmp_path: Path) -> None:
    gw = await started(tmp_path, CLASSES)
    await gw.stop()
    async with await Journal.open(tmp_path / "data") as journal:
        await journal.append(
            Event(kind="panic", phase=Phase.ALARM, priority=1, source="hq/panel-1/zone-2")
        )
    gw = await started(tmp_path, CLASSES)
    try:
        incident = await only_incident(gw)
        assert incident.source == "hq/panel-1/zone-2"
    finally:
        await gw.stop()


async def test_a_first_start_on_an_old_journal_opens_nothing_for_history(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "data") as journal:
        await journal.append(
            Event(kind="panic", phase=Phase.ALARM, priority=1, source="hq/panel-1/zone-2")
        )
    gw = await started(tmp_path, CLASSES)
    try:
        await caught_up(gw)
        assert gw.incidents.incidents == {}
        await emit(gw, "panic", source="hq/panel-1/zone-3")
        assert (await only_incident(gw)).source == "hq/panel-1/zone-3"
    finally:
        await gw.stop()


async def test_stop_ends_the_escalation_loop_whenever_it_comes(tmp_path: Path) -> None:
    """A stop() that lands while the loop is tidying up its timers must still end it (it
    once swallowed the cancellation and kept looping, so Gateway.stop() hung)."""
    gw = await started(tmp_path, CLASSES)
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        await only_incident(gw)
        for turns in range(8):
            loop_task = asyncio.create_task(gw.incidents._escalate_forever())
            for _ in range(3):
                await asyncio.sleep(0)
            gw.incidents._timers_changed.set()
            for _ in range(turns):
                await asyncio.sleep(0)
            loop_task.cancel()
            await asyncio.wait_for(asyncio.gather(loop_task, return_exceptions=True), 2)
            assert loop_task.cancelled(), turns
    finally:
        await gw.stop()


async def test_notes_beyond_the_cap_are_counted_once_even_when_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incident keeps its first notes and counts the rest (each one is in the journal);
    records read again after a crash count nothing twice."""
    monkeypatch.setattr(incident_model, "MAX_NOTES", 2)
    gw = await started(tmp_path, CLASSES)
    start = gw.journal.committed_seq
    await emit(gw, "panic", source="hq/panel-1/zone-1")
    incident = await only_incident(gw)
    for n in range(4):
        noted = await gw.incidents.add_note(incident.id, "alice", f"note {n}")
    assert [n.text for n in noted.notes] == ["note 0", "note 1"]
    assert noted.notes_omitted == 2
    await caught_up(gw)  # the tracker has read its own notes back from the journal
    assert gw.incidents.get(incident.id).notes_omitted == 2
    assert len(records(gw, "incident.noted")) == 4
    await gw.stop()
    state = StateDB(tmp_path / "data" / "state.sqlite3")  # as if it died before saving more
    state.put(POSITION_NS, POSITION_KEY, start)
    state.flush()
    state.close()

    gw = await started(tmp_path, CLASSES)
    try:
        await caught_up(gw)
        again = gw.incidents.get(incident.id)
        assert [n.text for n in again.notes] == ["note 0", "note 1"]
        assert again.notes_omitted == 2
    finally:
        await gw.stop()
