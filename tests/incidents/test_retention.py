"""Closed incidents are listed for ``keep_closed_days`` and at most ``keep_closed_max`` of them:
a gateway that runs for years must not keep every incident in memory. Their history stays in
the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.incidents.tracker import IncidentError
from gateway.sdk.clock import ManualClock
from tests.incidents.helpers import caught_up, records
from tests.rules.helpers import START, emit, started, until

DAY_S = 86_400.0


def classes(extra: str) -> str:
    return f"""
incidents:
  {extra}
  classes:
    - {{name: hold-up, kinds: [panic], grade: 1}}
"""


async def _open(gw: object, zone: int) -> str:
    await emit(gw, "panic", source=f"hq/panel-1/zone-{zone}")  # type: ignore[arg-type]
    await caught_up(gw)  # type: ignore[arg-type]
    tracker = gw.incidents  # type: ignore[attr-defined]
    return next(i.id for i in tracker.incidents.values() if i.source.endswith(f"zone-{zone}"))


async def test_closed_incidents_past_the_days_go_open_ones_stay(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, classes("keep_closed_days: 1"), clock)
    try:
        old = await _open(gw, 1)
        recent = await _open(gw, 2)
        still_open = await _open(gw, 3)
        await gw.incidents.close(old, "alice", "false alarm")
        await clock.advance(2 * DAY_S, step=600)
        await gw.incidents.close(recent, "alice", "false alarm")
        # the tracker prunes on its own as it saves its position (at most once a minute)
        await emit(gw, "trouble.ac_loss", source="hq/panel-1")
        await until(lambda: old not in gw.incidents.incidents, "the old closed incident pruned")
        assert set(gw.incidents.incidents) == {recent, still_open}
        assert gw.incidents.counters.pruned == 1
        with pytest.raises(IncidentError, match="listed for 1 days; the journal keeps"):
            gw.incidents.get(old)
        # its history is still in the journal
        closed = [e for e in records(gw, "incident.closed") if e.data["incident"] == old]
        assert len(closed) == 1
    finally:
        await gw.stop()
    gw = await started(tmp_path, classes("keep_closed_days: 1"), clock)
    try:
        await caught_up(gw)
        assert set(gw.incidents.incidents) == {recent, still_open}  # gone from state too
    finally:
        await gw.stop()


async def test_beyond_the_maximum_the_longest_closed_go_first(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, classes("keep_closed_max: 2"), clock)
    try:
        ids = []
        for zone in range(1, 5):
            ids.append(await _open(gw, zone))
        for incident_id in ids:  # closed one after another, ten seconds apart
            await gw.incidents.close(incident_id, "alice", "test")
            await clock.advance(10)
        assert gw.incidents.prune_closed() == 2
        assert set(gw.incidents.incidents) == set(ids[2:])
        assert gw.incidents.prune_closed() == 0
    finally:
        await gw.stop()
