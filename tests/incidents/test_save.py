"""The tracker's periodic save: every changed incident, then the position, without holding the
event loop for the whole of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path

from gateway.incidents.tracker import POSITION_KEY, POSITION_NS, SAVE_SLICE, STATE_NS
from tests.incidents.helpers import caught_up
from tests.incidents.test_storm import _holdup
from tests.rules.helpers import started

ZONES = SAVE_SLICE * 4


async def test_the_save_lets_the_loop_turn_and_keeps_changes_made_meanwhile(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path, "")
    try:
        await gw.journal.append_many([_holdup(gw, zone) for zone in range(ZONES)])
        await caught_up(gw)
        await gw.journal.append_many([_holdup(gw, zone) for zone in range(ZONES)])  # joins
        await caught_up(gw)
        tracker = gw.incidents
        assert len(tracker.incidents) == ZONES
        by_age = sorted(tracker.incidents.values(), key=lambda i: i.opened_at)
        first, last = by_age[0], by_age[-1]
        turns = 0

        async def meanwhile() -> None:
            """Counts turns of the loop during the save; in the second, one incident changes
            and another is forgotten (as pruning does)."""
            nonlocal turns
            while True:
                turns += 1
                if turns == 2:
                    last.alarm_count += 5  # as a joining alarm would, marked to be saved
                    tracker._dirty.add(last.id)
                    del tracker.incidents[first.id]
                    tracker._dirty.discard(first.id)
                    gw.statedb.delete(STATE_NS, first.id)
                await asyncio.sleep(0)

        # At the moment the position is put, every incident this save wrote is on disk
        # (what a process started after a crash here would read): never the other way round.
        on_disk_at_position: list[int] = []
        put = gw.statedb.put

        def watching_put(ns: str, key: str, value: object) -> None:
            if ns == POSITION_NS:
                with contextlib.closing(sqlite3.connect(gw.statedb.path)) as conn:
                    rows = conn.execute("SELECT value FROM kv WHERE ns = ?", (STATE_NS,))
                    on_disk_at_position.append(
                        sum(json.loads(v)["alarm_count"] >= 2 for (v,) in rows)
                    )
            put(ns, key, value)

        gw.statedb.put = watching_put  # type: ignore[method-assign]
        other = asyncio.create_task(meanwhile())
        await asyncio.sleep(0)
        await tracker._save_position()
        gw.statedb.put = put  # type: ignore[method-assign]
        assert on_disk_at_position == [ZONES - 1]  # the joined ones, less the one forgotten
        assert not other.done(), other  # it raised: the test itself is wrong
        other.cancel()
        assert turns >= ZONES // SAVE_SLICE - 1  # the loop turned between slices
        gw.statedb.flush()
        saved = gw.statedb.items(STATE_NS)
        assert first.id not in saved
        assert len(saved) == ZONES - 1
        # Saved as it is now, unless it was saved before the change: then it is still marked.
        assert tracker._dirty <= {last.id}
        for incident in tracker.incidents.values():
            if incident.id not in tracker._dirty:
                assert saved[incident.id] == json.loads(incident.model_dump_json(by_alias=True))
        assert gw.statedb.get(POSITION_NS, POSITION_KEY) == tracker.applied_seq
        tracker._save()  # the next save
        gw.statedb.flush()
        assert gw.statedb.items(STATE_NS)[last.id]["alarm_count"] == 7
    finally:
        await gw.stop()
