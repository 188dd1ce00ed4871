"""The engine in a real gateway: triggers, actions, conditions, run modes, journaled runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.journal import Filter, JournalWriteError
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.rules.engine import RUN_KIND
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

SIREN = """
rules:
  - name: siren-on-vault-intrusion
    when: {kind: intrusion, phase: alarm, source: "hq/panel-1/*", where: "data.level >= 2"}
    then:
      - command: {target: hq/siren-1, action: output.pulse, params: {zone: "{source}"}}
      - event: {kind: intrusion.verified, text: "confirmed at {source}"}
"""


async def test_a_matching_event_sends_the_command_and_the_run_is_journaled(tmp_path: Path) -> None:
    gw = await started(tmp_path, SIREN)
    try:
        await emit(gw, "intrusion", phase=Phase.RESTORE, data={"level": 3})
        await emit(gw, "intrusion", data={"level": 1})
        await emit(gw, "intrusion", source="hq/other/zone-1", data={"level": 3})
        trigger = await emit(gw, "intrusion.perimeter", data={"level": 2})
        await judged(gw)
        await settled(gw)
        sent = commands(gw)
        assert [(c.target, c.action, c.params) for c in sent] == [
            ("hq/siren-1", "output.pulse", {"zone": "hq/panel-1/zone-1"})
        ]
        assert sent[0].issued_by == "rule:siren-on-vault-intrusion"
        assert trigger.id in (sent[0].reason or "")
        (run,) = runs(gw)
        assert run["rule"] == "siren-on-vault-intrusion"
        assert run["trigger"]["id"] == trigger.id and run["trigger"]["seq"] == trigger.seq
        assert run["status"] == "ok"
        command, derived = run["actions"]
        assert command["status"] == "ok" and command["command_id"] == sent[0].id
        assert derived["kind"] == "intrusion.verified" and derived["status"] == "ok"
        verified = gw.journal.reader.get(derived["seq"])
        assert verified is not None and verified.event.text == "confirmed at hq/panel-1/zone-1"
        assert verified.event.data["trigger"] == trigger.id
    finally:
        await gw.stop()


@pytest.mark.parametrize("writer", ["process", "thread"])
async def test_a_runs_records_reach_the_journal_in_order(tmp_path: Path, writer: str) -> None:
    """A run does not wait for its command's result record to be durable (its own record
    follows it through the same writer): on disk the order is still command, result, run."""
    gw = await started(tmp_path, f"journal: {{writer: {writer}}}\n" + SIREN)
    try:
        triggers = []
        for _ in range(3):  # one after the other: the rule's mode is single
            triggers.append(await emit(gw, "intrusion", data={"level": 3}))
            await judged(gw)
            await settled(gw)
        reader = gw.journal.reader
        order = [
            RUN_KIND if r.kind == RUN_KIND else r.rtype.value
            for r in reader.query(Filter.build(types=["command", "result", "event"]), limit=100)
            if r.rtype.value != "event" or r.kind == RUN_KIND
        ]
        assert order == ["command", "result", RUN_KIND] * 3
        assert gw.commands.counters["results_not_journaled"] == 0
        await gw.journal.flush()
        stored = reader.cursor("rules")
        assert stored is not None and stored >= triggers[-1].seq
    finally:
        await gw.stop()


@pytest.mark.parametrize("writer", ["process", "thread"])
async def test_the_cursor_passes_a_trigger_only_once_its_run_record_is_durable(
    tmp_path: Path, writer: str
) -> None:
    """The run record's write is held by hand: while it is not durable the run still counts
    as active and the cursor stays before its trigger; a failed write is logged, and then
    the cursor moves on (the run happened; repeating its commands would be worse)."""
    gw = await started(tmp_path, f"journal: {{writer: {writer}}}\n" + SIREN)
    journal = gw.journal
    real_submit = journal.submit
    held: list[asyncio.Future[int]] = []

    def submit(payload: Any) -> asyncio.Future[int]:
        if isinstance(payload, Event) and payload.kind == RUN_KIND:
            held.append(asyncio.get_running_loop().create_future())
            return held[-1]
        return real_submit(payload)

    journal.submit = submit  # type: ignore[method-assign]
    try:
        trigger = await emit(gw, "intrusion", data={"level": 3})
        assert trigger.seq is not None
        await until(lambda: bool(held), "the run record handed to the journal")
        await asyncio.sleep(0.05)
        await journal.flush()
        assert gw.rules is not None and gw.rules.active_runs == 1
        assert (journal.reader.cursor("rules") or 0) < trigger.seq
        with capture_logs() as logs:
            held[0].set_exception(JournalWriteError("disk full"))
            await until(lambda: gw.rules is not None and gw.rules.active_runs == 0, "run over")
        assert any(e["event"] == "rule run not journaled" for e in logs), logs
        await journal.flush()
        assert (journal.reader.cursor("rules") or 0) >= trigger.seq
    finally:
        journal.submit = real_submit  # type: ignore[method-assign]
        await gw.stop()


async def test_a_failed_command_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    gw = await started(
        tmp_path,
        """
rules:
  - name: best-effort
    when: {kind: fire}
    then:
      - command: {target: hq/siren-1, action: door.unlock}
      - command: {target: hq/siren-1, action: output.pulse}
""",
    )
    try:
        await emit(gw, "fire")
        await judged(gw)
        await settled(gw)
        (run,) = runs(gw)
        assert run["status"] == "failed"
        assert [a["status"] for a in run["actions"]] == ["unsupported", "ok"]
    finally:
        await gw.stop()


async def test_a_rule_is_not_triggered_by_its_own_derived_event(tmp_path: Path) -> None:
    gw = await started(
        tmp_path,
        """
rules:
  - name: echo
    when: {kind: intrusion}
    then:
      - event: {kind: intrusion.verified}
""",
    )
    try:
        await emit(gw, "intrusion")
        await judged(gw)
        await settled(gw)
        await judged(gw)
        await settled(gw)
        assert len(runs(gw)) == 1
    finally:
        await gw.stop()


ARMED = """
rules:
  - name: armed-only
    when: {kind: intrusion}
    if: [{armed: true}]
    then: [{command: {target: hq/siren-1, action: output.pulse}}]
  - name: disarmed-vault
    when: {kind: intrusion}
    if: [{disarmed: [vault]}]
    then: [{command: {target: hq/siren-1, action: output.pulse, params: {quiet: true}}}]
"""


async def test_armed_and_disarmed_conditions_read_the_areas_state(tmp_path: Path) -> None:
    gw = await started(tmp_path, ARMED)
    try:
        await emit(gw, "intrusion")  # state unknown: neither rule
        await emit(gw, "arming.armed", source="hq/panel-1", phase=Phase.STATUS, area="1")
        armed_trigger = await emit(gw, "intrusion")
        await judged(gw)
        await settled(gw)
        await emit(gw, "arming.disarmed", source="hq/panel-1", phase=Phase.STATUS, area="1")
        disarmed_trigger = await emit(gw, "intrusion")
        await judged(gw)
        await settled(gw)
        assert [(r["rule"], r["trigger"]["id"]) for r in runs(gw)] == [
            ("armed-only", armed_trigger.id),
            ("disarmed-vault", disarmed_trigger.id),
        ]
    finally:
        await gw.stop()


CORRELATE = """
rules:
  - name: confirmed-intrusion
    when: {kind: intrusion, phase: alarm}
    if: [{correlate: {count: 2, within_s: 60, distinct: source, per: area}}]
    cooldown_s: 300
    then: [{event: {kind: intrusion.verified}}]
"""


async def test_two_different_zones_within_the_window_confirm_an_intrusion(tmp_path: Path) -> None:
    gw = await started(tmp_path, CORRELATE)
    try:
        await emit(gw, "intrusion", source="hq/panel-1/zone-1", at=later(0))
        await emit(gw, "intrusion", source="hq/panel-1/zone-1", at=later(10))  # same zone
        await judged(gw)
        assert runs(gw) == []
        await emit(gw, "intrusion", source="hq/panel-1/zone-2", at=later(100))  # zone-1 too old
        await judged(gw)
        assert runs(gw) == []
        second = await emit(gw, "intrusion", source="hq/panel-1/zone-3", at=later(150))
        await emit(gw, "intrusion", source="hq/panel-1/zone-1", at=later(155))  # cooldown
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [second.id]
        assert gw.rules is not None and gw.rules.dropped == {"cooldown": 1}
    finally:
        await gw.stop()


async def test_debounce_drops_triggers_that_follow_too_closely(tmp_path: Path) -> None:
    gw = await started(
        tmp_path,
        """
rules:
  - name: debounced
    when: {kind: door.forced}
    debounce_s: 5
    mode: parallel
    then: [{command: {target: hq/siren-1, action: output.pulse}}]
""",
    )
    try:
        first = await emit(gw, "door.forced", at=later(0))
        await emit(gw, "door.forced", at=later(3))
        await emit(gw, "door.forced", at=later(6))  # 3 s after the last trigger: still bouncing
        last = await emit(gw, "door.forced", at=later(20))
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [first.id, last.id]
    finally:
        await gw.stop()


def _mode_rule(mode: str, max_runs: int = 10) -> str:
    return f"""
rules:
  - name: slow
    when: {{kind: intrusion}}
    mode: {mode}
    max_runs: {max_runs}
    then:
      - wait: 10
      - command:
          target: hq/siren-1
          action: output.pulse
          params: {{zone: "{{source}}"}}
          deadline_s: 3600  # the manual clock may jump past a short deadline
"""


async def _two_triggers(tmp_path: Path, mode: str, max_runs: int = 10) -> tuple[list, list]:  # type: ignore[type-arg]
    clock = ManualClock(START)
    gw = await started(tmp_path, _mode_rule(mode, max_runs), clock)
    try:
        await emit(gw, "intrusion", source="hq/panel-1/zone-1")
        await judged(gw)
        await clock.advance(4)
        await emit(gw, "intrusion", source="hq/panel-1/zone-2")
        await judged(gw)
        await clock.advance(30)
        await settled(gw)
        sent = [c.params["zone"] for c in commands(gw)]
        return sent, [(r["trigger"]["source"], r["status"]) for r in runs(gw)]
    finally:
        await gw.stop()


async def test_mode_single_drops_a_trigger_while_running(tmp_path: Path) -> None:
    sent, recorded = await _two_triggers(tmp_path, "single")
    assert sent == ["hq/panel-1/zone-1"]
    assert recorded == [("hq/panel-1/zone-1", "ok")]


async def test_mode_restart_cancels_the_running_run(tmp_path: Path) -> None:
    sent, recorded = await _two_triggers(tmp_path, "restart")
    assert sent == ["hq/panel-1/zone-2"]
    assert recorded == [("hq/panel-1/zone-1", "cancelled"), ("hq/panel-1/zone-2", "ok")]


async def test_mode_queued_runs_one_after_the_other(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, _mode_rule("queued"), clock)
    try:
        await emit(gw, "intrusion", source="hq/panel-1/zone-1")
        await emit(gw, "intrusion", source="hq/panel-1/zone-2")
        await judged(gw)
        await clock.advance(12)
        await until(lambda: len(runs(gw)) == 1, "the first run")
        assert [c.params["zone"] for c in commands(gw)] == ["hq/panel-1/zone-1"]
        # The second run starts only once the first is journaled (real time, not the manual
        # clock's), so move the clock on until it has had its ten seconds.
        for _ in range(100):
            if len(commands(gw)) == 2:
                break
            await clock.advance(1)
        await settled(gw)
        zones = [c.params["zone"] for c in commands(gw)]
        assert zones == ["hq/panel-1/zone-1", "hq/panel-1/zone-2"]
    finally:
        await gw.stop()


async def test_mode_parallel_runs_side_by_side_up_to_max_runs(tmp_path: Path) -> None:
    sent, _ = await _two_triggers(tmp_path, "parallel")
    assert sent == ["hq/panel-1/zone-1", "hq/panel-1/zone-2"]


async def test_mode_parallel_drops_beyond_max_runs(tmp_path: Path) -> None:
    sent, _ = await _two_triggers(tmp_path, "parallel", max_runs=1)
    assert sent == ["hq/panel-1/zone-1"]


NOT_RESTORED = """
rules:
  - name: stuck-door
    when: {kind: door.held_open, phase: alarm}
    if: [{not_restored: {within_s: 30}}]
    mode: parallel  # one wait per door
    then:
      - command:
          {target: hq/siren-1, action: output.pulse, params: {door: "{source}"}, deadline_s: 3600}
"""


async def test_an_alarm_not_restored_within_t_runs_and_a_restored_one_does_not(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, NOT_RESTORED, clock)
    try:
        await emit(gw, "door.held_open", source="hq/door-1")
        await emit(gw, "door.held_open", source="hq/door-2")
        await judged(gw)
        await clock.advance(10)
        await emit(gw, "door.held_open", source="hq/door-1", phase=Phase.RESTORE)
        await judged(gw)
        await clock.advance(25)
        await settled(gw)
        assert [c.params["door"] for c in commands(gw)] == ["hq/door-2"]
        statuses = {r["trigger"]["source"]: (r["status"], r["reason"]) for r in runs(gw)}
        assert statuses == {
            "hq/door-1": ("skipped", "restored within 30 s"),
            "hq/door-2": ("ok", None),
        }
    finally:
        await gw.stop()


PARALLEL = """
rules:
  - name: lights-and-siren
    when: {kind: intrusion}
    then:
      - parallel:
          - sequence:
              - wait: 5
              - command:
                  {target: hq/siren-1, action: output.pulse, params: {n: 1}, deadline_s: 3600}
          - command: {target: hq/siren-1, action: output.pulse, params: {n: 2}, deadline_s: 3600}
"""


async def test_parallel_groups_run_side_by_side(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, PARALLEL, clock)
    try:
        await emit(gw, "intrusion")
        await judged(gw)
        await clock.advance(1)
        await until(lambda: len(commands(gw)) == 1, "the branch without a wait")
        assert [c.params["n"] for c in commands(gw)] == [2]
        await clock.advance(5)
        await settled(gw)
        assert [c.params["n"] for c in commands(gw)] == [2, 1]
        (run,) = runs(gw)
        (group,) = run["actions"]
        assert group["type"] == "parallel" and group["status"] == "ok"
        assert [a["type"] for a in group["actions"]] == ["sequence", "command"]
    finally:
        await gw.stop()


async def test_device_and_where_conditions(tmp_path: Path) -> None:
    gw = await started(
        tmp_path,
        """
rules:
  - name: camera-online
    when: {kind: video.motion}
    if:
      - device: {address: hq/siren-1, status: online}
      - where: "zone == '7'"
    mode: parallel
    then: [{command: {target: hq/siren-1, action: output.pulse}}]
""",
    )
    try:
        await emit(gw, "video.motion", zone="7")  # the siren's status is still unknown
        await judged(gw)
        gw.registry.upsert_device("hq/siren-1", kind="siren", status="online")
        await emit(gw, "video.motion", zone="8")
        online = await emit(gw, "video.motion", zone="7")
        await judged(gw)
        await settled(gw)
        assert [r["trigger"]["id"] for r in runs(gw)] == [online.id]
    finally:
        await gw.stop()
