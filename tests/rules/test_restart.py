"""After a restart the engine neither repeats nor skips a linkage."""

from __future__ import annotations

from pathlib import Path

from gateway.journal import Journal
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.rules.engine import CURSOR
from gateway.sdk.clock import ManualClock
from tests.rules.helpers import (
    START,
    commands,
    emit,
    judged,
    later,
    runs,
    settled,
    started,
    until,
)

RULE = """
rules:
  - name: siren
    when: {{kind: intrusion}}
    mode: parallel
    then:
      - wait: {wait}
      - command: {{target: hq/siren-1, action: output.pulse, params: {{zone: "{{source}}"}}}}
"""


async def test_no_repeat_after_a_clean_restart_and_no_skip_of_events_meanwhile(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path, RULE.format(wait=0))
    first = await emit(gw, "intrusion", source="hq/panel-1/zone-1")
    await judged(gw)
    await settled(gw)
    await gw.stop()
    async with await Journal.open(tmp_path / "data") as journal:  # while the gateway is down
        missed = Event(
            kind="intrusion",
            phase=Phase.ALARM,
            priority=2,
            source="hq/panel-1/zone-2",
            plugin="panel",
        )
        await journal.append(missed)
    gw = await started(tmp_path, RULE.format(wait=0))
    try:
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [first.id, missed.id]
        assert [c.params["zone"] for c in commands(gw)] == [
            "hq/panel-1/zone-1",
            "hq/panel-1/zone-2",
        ]
    finally:
        await gw.stop()


async def test_a_run_journaled_before_the_cursor_was_saved_is_not_repeated(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path, RULE.format(wait=0))
    before = gw.journal.committed_seq
    trigger = await emit(gw, "intrusion")
    await judged(gw)
    await settled(gw)
    await gw.stop()
    async with await Journal.open(tmp_path / "data") as journal:
        # as if the process had died after journaling the run but before the cursor moved
        await journal.run_on_writer(
            lambda conn: conn.execute("UPDATE cursors SET seq = ? WHERE name = ?", (before, CURSOR))
        )
        assert journal.reader.cursor(CURSOR) == before
    gw = await started(tmp_path, RULE.format(wait=0))
    try:
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [trigger.id]
        assert len(commands(gw)) == 1
    finally:
        await gw.stop()


async def test_a_run_cut_short_by_shutdown_runs_once_after_the_restart(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, RULE.format(wait=100), clock)
    trigger = await emit(gw, "intrusion")
    await judged(gw)
    await clock.advance(5)
    await gw.stop()  # the run is waiting: nothing sent, nothing journaled
    clock = ManualClock(START)
    gw = await started(tmp_path, RULE.format(wait=100), clock)
    try:
        await judged(gw)
        assert gw.rules is not None
        await until(lambda: gw.rules is not None and gw.rules.active_runs == 1, "the re-run")
        await clock.advance(101)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [trigger.id]
        assert [r["status"] for r in runs(gw)] == ["ok"]
        assert len(commands(gw)) == 1
    finally:
        await gw.stop()


CORRELATE = """
rules:
  - name: confirmed
    when: {kind: intrusion, phase: alarm}
    if: [{correlate: {count: 2, within_s: 60, distinct: source}}]
    then: [{event: {kind: intrusion.verified}}]
"""


async def test_a_correlation_window_spans_a_restart(tmp_path: Path) -> None:
    gw = await started(tmp_path, CORRELATE)
    await emit(gw, "intrusion", source="hq/panel-1/zone-1", at=later(0))
    await judged(gw)
    await settled(gw)
    await gw.stop()
    gw = await started(tmp_path, CORRELATE)
    try:
        second = await emit(gw, "intrusion", source="hq/panel-1/zone-2", at=later(30))
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [second.id]
    finally:
        await gw.stop()
