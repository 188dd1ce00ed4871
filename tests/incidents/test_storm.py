"""An alarm storm: many zones alarm at once, each opening an incident of its own."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from gateway.model.event import Event
from gateway.model.ids import new_id
from gateway.model.kinds import Phase
from tests.incidents.helpers import caught_up, records
from tests.rules.helpers import started, until


def _holdup(gw: Any, zone: int) -> Event:
    now = gw.clock.now()
    return Event(
        kind="panic.holdup",
        phase=Phase.ALARM,
        priority=1,
        source=f"hq/panel-1/zone-{zone}",
        occurred_at=now,
        received_at=now,
        plugin="panel",
    )


async def test_a_storm_opens_its_incidents_in_a_few_commits(tmp_path: Path) -> None:
    """Forty zones in one commit: forty incidents, their records written together rather than
    one commit after another (which left the tracker seconds behind in a real storm)."""
    gw = await started(tmp_path, "")
    try:
        await caught_up(gw)
        before = gw.journal.stats.transactions
        alarms = [_holdup(gw, zone) for zone in range(40)]
        await gw.journal.append_many(alarms)
        await caught_up(gw)
        opened = records(gw, "incident.opened")
        assert sorted(e.data["trigger"] for e in opened) == sorted(a.id for a in alarms)
        assert len(gw.incidents.incidents) == 40
        assert gw.journal.stats.transactions - before < 20
        # a repeat of one of them joins its incident: the storm's incidents are indexed
        await gw.journal.append(_holdup(gw, 7))
        await caught_up(gw)
        assert len(records(gw, "incident.opened")) == 40
    finally:
        await gw.stop()


class _FailIncidentRecords:
    """The writer's connection, failing each INSERT that holds a record of a kind starting with
    ``prefix`` with SQLite's disk-full error (what a full disk does to the transaction), while
    ``failing`` and until ``times`` failures."""

    def __init__(self, conn: sqlite3.Connection, prefix: str, times: int | None = None) -> None:
        self._conn = conn
        self._prefix = prefix
        self._times = times
        self.failing = True
        self.failures = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if (
            self.failing
            and (self._times is None or self.failures < self._times)
            and sql.startswith("INSERT INTO records")
            and any(isinstance(v, str) and v.startswith(self._prefix) for v in args[0])
        ):
            self.failures += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def test_an_incident_whose_record_failed_is_opened_again_not_lost(tmp_path: Path) -> None:
    """The record of an alarm's incident fails to commit: the tracker forgets that incident
    (nothing unrecorded stays in memory or in its state), judges the alarm again, and the
    journal ends with exactly one ``incident.opened`` for it."""
    gw = await started(tmp_path, "journal: {writer: thread}\n")
    try:
        await caught_up(gw)
        conn = gw.journal._writer._conn  # type: ignore[union-attr]
        failing = _FailIncidentRecords(conn, "incident.opened", times=1)
        gw.journal._writer._conn = failing  # type: ignore[union-attr,assignment]
        alarm = _holdup(gw, 3)
        await gw.journal.append(alarm)
        await until(lambda: failing.failures == 1, "the incident's record failed")
        await until(lambda: len(records(gw, "incident.opened")) == 1, "the incident opened again")
        await caught_up(gw)
        opened = records(gw, "incident.opened")
        assert [e.data["trigger"] for e in opened] == [alarm.id]
        holdups = [i for i in gw.incidents.incidents.values() if i.kind == "panic.holdup"]
        assert [i.id for i in holdups] == [opened[0].data["incident"]["id"]]
        assert gw.incidents.counters.opened == 1
    finally:
        await gw.stop()
    await asyncio.sleep(0)


async def test_no_change_is_journaled_for_an_incident_whose_opening_failed(
    tmp_path: Path,
) -> None:
    """An alarm and its restore arrive together while the tracker cannot write: the restore
    must not be journaled for an incident that is not on record, and the incident must not
    linger in memory; once writing works the journal has one incident, opened then restored."""
    gw = await started(tmp_path, "journal: {writer: thread}\n")
    try:
        await caught_up(gw)
        conn = gw.journal._writer._conn  # type: ignore[union-attr]
        failing = _FailIncidentRecords(conn, "incident.")
        gw.journal._writer._conn = failing  # type: ignore[union-attr,assignment]
        alarm = _holdup(gw, 5)
        restore = alarm.model_copy(update={"id": new_id(), "phase": Phase.RESTORE})
        await gw.journal.append_many([alarm, restore])
        await until(lambda: failing.failures >= 1, "the tracker's write failed")
        await asyncio.sleep(0.05)
        assert not [i for i in gw.incidents.incidents.values() if i.kind == "panic.holdup"]
        failing.failing = False
        await until(lambda: len(records(gw, "incident.restored")) == 1, "restored once written")
        await caught_up(gw)
        opened = records(gw, "incident.opened")
        restored = records(gw, "incident.restored")
        assert [e.data["trigger"] for e in opened] == [alarm.id]
        assert [e.data["incident"] for e in restored] == [opened[0].data["incident"]["id"]]
        assert gw.incidents.counters.opened == 1
    finally:
        await gw.stop()
