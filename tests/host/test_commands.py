"""Command dispatch and area state, in a real gateway on a real journal."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter, JournalReader
from gateway.model.command import Command, ResultStatus
from gateway.model.entities import ArmingState
from gateway.model.kinds import Phase
from gateway.sdk.discovery import discover
from tests.host.plugins import PanelPlugin, TickPlugin

CONFIG = """\
site: {id: hq}
plugins:
  - {id: panel, plugin: panel}
  - {id: ticker, plugin: tick, config: {period_s: 0.5}}
areas:
  - {name: vault, device: hq/panel-1, local_id: "1"}
  - {name: lobby}
"""


def make_gateway(tmp_path: Path) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(CONFIG)
    installed = discover(extra=[PanelPlugin, TickPlugin])
    loaded = load_config(cfg, installed.classes)
    return Gateway(loaded, installed, data_dir=tmp_path / "data", backoff_initial_s=0.05)


def cmd(target: str, action: str, **params: object) -> Command:
    return Command(target=target, action=action, params=params, issued_by="test")


async def started(tmp_path: Path) -> Gateway:
    gw = make_gateway(tmp_path)
    await gw.start()
    for _ in range(6000):  # up to 60 s on a loaded machine
        if gw.runners["panel"].status.state is InstanceState.RUNNING:
            break
        await gw.clock.sleep(0.01)
    return gw


async def test_results_for_every_way_a_command_can_end(tmp_path: Path) -> None:
    gw = await started(tmp_path)
    try:
        ok = await gw.dispatch(cmd("hq/siren-1", "output.pulse"))
        assert ok.status is ResultStatus.OK
        cases = {
            ("hq/nowhere", "output.pulse"): (ResultStatus.FAILED, "no device, point or area"),
            ("hq/siren-1", "door.unlock"): (ResultStatus.UNSUPPORTED, "supports: output.pulse"),
            ("hq/panel-1", "camera.goto_preset"): (ResultStatus.UNSUPPORTED, "plugin panel"),
            ("hq/panel-1", "area.arm"): (ResultStatus.UNSUPPORTED, "targets an area"),
            ("hq/vault", "output.pulse"): (ResultStatus.UNSUPPORTED, "is an area"),
            ("hq/lobby", "area.arm"): (ResultStatus.FAILED, "no plugin instance"),
            ("hq/panel-1", "zone.bypass"): (ResultStatus.UNSUPPORTED, "targets a zone"),
        }
        for (target, action), (status, detail) in cases.items():
            result = await gw.dispatch(cmd(target, action))
            assert (result.status, target) == (status, target)
            assert detail in result.detail, result.detail
        bad_mode = await gw.dispatch(cmd("hq/vault", "area.arm", mode="night"))
        assert bad_mode.status is ResultStatus.FAILED and "'night'" in bad_mode.detail
        raised = await gw.dispatch(cmd("hq/siren-1", "output.pulse", **{"raise": True}))
        assert raised.status is ResultStatus.FAILED
        assert "OSError: bus error" in raised.detail
        garbage = await gw.dispatch(cmd("hq/siren-1", "output.pulse", garbage=True))
        assert garbage.status is ResultStatus.FAILED and "not a CommandResult" in garbage.detail
        own_timeout = await gw.dispatch(cmd("hq/siren-1", "output.pulse", raise_timeout=True))
        assert own_timeout.status is ResultStatus.FAILED, "the plugin's own timeout is a failure"
        assert "serial read timed out" in own_timeout.detail
        cancelled = await gw.dispatch(cmd("hq/siren-1", "output.pulse", raise_cancel=True))
        assert cancelled.status is ResultStatus.FAILED and "cancelled" in cancelled.detail
        caller = asyncio.create_task(gw.dispatch(cmd("hq/siren-1", "output.pulse", sleep=5)))
        on_record = Filter.build(types=["command"])
        for _ in range(6000):  # until the command is journaled and being carried out
            if len(gw.journal.reader.query(on_record, limit=100)) == 14:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        caller.cancel()
        await asyncio.gather(caller, return_exceptions=True)
        assert gw.runners["panel"].status.restarts == 0, "a failed command is not a crash"
    finally:
        await gw.stop()
    reader = JournalReader.open(tmp_path / "data")
    commands = reader.query(Filter.build(types=["command"]), limit=100)
    results = reader.query(Filter.build(types=["result"]), limit=100)
    reader.close()
    assert len(commands) == len(results) == 14, "every command has its result on record"
    assert results[-1].model.detail == "cancelled before an answer"  # type: ignore[union-attr]
    assert [r.model.command_id for r in results] == [c.id for c in commands]  # type: ignore[union-attr]


async def test_a_caller_cancelled_while_its_command_is_journaled_leaves_a_result(
    tmp_path: Path,
) -> None:
    """The caller goes away while the command's journal commit waits (another connection holds
    the write lock, as a slow disk would): the command ends on record, never carried out, with a
    result that says so."""
    gw = await started(tmp_path)
    try:
        blocker = sqlite3.connect(gw.journal.db_path, isolation_level=None, timeout=10)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            caller = asyncio.create_task(gw.dispatch(cmd("hq/siren-1", "output.pulse")))
            await asyncio.sleep(0.2)
            caller.cancel()
            await asyncio.gather(caller, return_exceptions=True)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        results = Filter.build(types=["result"])
        for _ in range(6000):
            if gw.journal.reader.query(results):
                break
            await asyncio.sleep(0.01)
        (command,) = gw.journal.reader.query(Filter.build(types=["command"]))
        (result,) = gw.journal.reader.query(results)
        assert result.model.command_id == command.id  # type: ignore[union-attr]
        assert result.model.detail == "cancelled before it was carried out"  # type: ignore[union-attr]
        assert not gw.commands.counters, "never carried out (no command ended with a status)"
    finally:
        await gw.stop()


async def test_deadline_gives_timeout_without_waiting_for_the_plugin(tmp_path: Path) -> None:
    gw = await started(tmp_path)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=0.2)
        command = Command(
            target="hq/siren-1",
            action="output.pulse",
            params={"sleep": 5},
            issued_by="test",
            deadline=deadline,
        )
        t0 = time.monotonic()
        result = await gw.dispatch(command)
        assert result.status is ResultStatus.TIMEOUT
        assert time.monotonic() - t0 < 4.0  # the plugin itself would take 5 s
        late = command.model_copy(update={"deadline": datetime.now(UTC) - timedelta(seconds=1)})
        assert (await gw.dispatch(late)).status is ResultStatus.TIMEOUT
    finally:
        await gw.stop()


async def test_area_state_follows_events_and_commands_and_survives_restart(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path)
    panel = gw.runners["panel"].plugin
    assert panel is not None
    ctx = panel.ctx

    async def publish(kind: str, source: str, phase: Phase, **fields: object) -> None:
        seq = await ctx.publish(ctx.event(kind, source, phase, **fields))
        await gw.areas.caught_up(seq)

    try:
        await publish("arming.armed", "hq/panel-1", Phase.STATUS, area="01", data={"mode": "stay"})
        assert gw.registry.areas["hq/vault"].arming is ArmingState.STAY  # panel's number 01
        await publish("intrusion", "hq/panel-1/zone-2", Phase.ALARM, area="1")
        await publish("intrusion", "hq/panel-1/zone-2", Phase.RESTORE, area="1")
        await publish("zone.bypassed", "hq/panel-1/zone-3", Phase.STATUS)  # area from the point
        vault = gw.registry.areas["hq/vault"]
        assert vault.latched == ["hq/panel-1/zone-2"], "a restore does not clear alarm memory"
        assert vault.bypassed == ["hq/panel-1/zone-3"]
        result = await gw.dispatch(cmd("hq/vault", "area.disarm"))
        assert result.status is ResultStatus.OK
        seq = gw.journal.committed_seq
        await gw.areas.caught_up(seq)
        assert gw.registry.areas["hq/vault"].arming is ArmingState.DISARMED
        assert gw.registry.areas["hq/lobby"].arming is ArmingState.UNKNOWN
    finally:
        await gw.stop()

    gw = await started(tmp_path)
    try:
        vault = gw.registry.areas["hq/vault"]
        assert vault.arming is ArmingState.DISARMED
        assert vault.latched == ["hq/panel-1/zone-2"]
        assert vault.bypassed == ["hq/panel-1/zone-3"]
        assert (await gw.dispatch(cmd("hq/panel-1/zone-3", "zone.unbypass"))).status == "ok"
        assert (await gw.dispatch(cmd("hq/vault", "area.arm"))).status == "ok"
        await gw.areas.caught_up(gw.journal.committed_seq)
        vault = gw.registry.areas["hq/vault"]
        assert vault.arming is ArmingState.AWAY, "area.arm without a mode arms away"
        assert vault.latched == [] and vault.bypassed == []
    finally:
        await gw.stop()


async def test_area_state_is_rebuilt_from_the_journal_when_the_state_db_is_lost(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path)
    panel = gw.runners["panel"].plugin
    assert panel is not None
    try:
        ctx = panel.ctx
        await ctx.publish(ctx.event("arming.armed", "hq/panel-1", Phase.STATUS, area="1"))
        seq = await ctx.publish(ctx.event("intrusion", "hq/panel-1/zone-1", Phase.ALARM, area="1"))
        await gw.areas.caught_up(seq)
    finally:
        await gw.stop()
    for path in (tmp_path / "data").glob("state.sqlite3*"):
        path.unlink()
    gw = await started(tmp_path)
    try:
        await gw.areas.caught_up(seq)
        vault = gw.registry.areas["hq/vault"]
        assert vault.arming is ArmingState.AWAY
        assert vault.latched == ["hq/panel-1/zone-1"]
    finally:
        await gw.stop()
