from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.sdk.discovery import discover
from tests.host.plugins import BlockingPlugin, TickPlugin


def make_gateway(tmp_path: Path, plugins_yaml: str, **kw: object) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(f"site: {{id: hq}}\nplugins:\n{plugins_yaml}")
    installed = discover(extra=[TickPlugin])
    loaded = load_config(cfg, installed.classes)
    return Gateway(loaded, installed, data_dir=tmp_path / "data", backoff_initial_s=0.05, **kw)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Poll ``condition`` every 10 ms; fail clearly after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the state lives in other tasks and the journal
            await asyncio.sleep(0.01)


async def test_crashing_instance_restarts_while_another_keeps_publishing(tmp_path: Path) -> None:
    gw = make_gateway(
        tmp_path,
        "  - {id: steady, plugin: tick, config: {period_s: 0.01}}\n"
        "  - {id: flaky, plugin: tick, config: {period_s: 0.01, crash_after: 3}}\n",
    )
    await gw.start()
    flaky, steady = gw.runners["flaky"], gw.runners["steady"]
    steady_ticks = Filter.build(kinds=["test.periodic"], sources=["hq/tick-steady"])
    await until(  # as long as a loaded machine needs: what is asserted is the outcome
        lambda: (
            flaky.status.restarts >= 3
            and len(gw.journal.reader.query(steady_ticks, limit=100)) >= 50
        )
    )
    assert "crashed after 3 ticks" in (flaky.status.last_error or "")
    assert steady.status.restarts == 0 and steady.status.state is InstanceState.RUNNING
    await gw.stop()
    from gateway.journal import JournalReader

    reader = JournalReader.open(tmp_path / "data")
    ticks = reader.query(steady_ticks, limit=10_000)
    faults = reader.query(Filter.build(kinds=["plugin.fault"]), limit=100)
    reader.close()
    assert len(ticks) >= 50  # the steady instance never stopped
    gaps = [(b.ts_us - a.ts_us) / 1e6 for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, "the steady instance was held up by the crashing one"
    assert faults and faults[0].event.source == "hq/flaky" and faults[0].phase == "alarm"
    assert "traceback" in faults[0].event.data


async def test_instance_failing_in_start_backs_off_and_records_one_fault(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, "  - {id: broken, plugin: tick, config: {crash_in_start: true}}\n")
    await gw.start()
    runner = gw.runners["broken"]
    await until(lambda: runner.status.restarts >= 3)  # backoff 0.05, 0.1, 0.2, …
    assert runner.status.last_error == "RuntimeError: cannot open the serial port"
    faults = gw.journal.reader.query(Filter.build(kinds=["plugin.fault"]))
    assert len(faults) == 1, "one alarm per outage, not one per retry"
    await gw.stop()


async def test_fault_is_restored_once_the_instance_runs_again(tmp_path: Path) -> None:
    gw = make_gateway(
        tmp_path, "  - {id: once, plugin: tick, config: {period_s: 0.01, crash_after: 2}}\n"
    )
    await gw.start()
    faults = Filter.build(kinds=["plugin.fault"])
    await until(lambda: len(gw.journal.reader.query(faults)) >= 2)
    phases = [r.phase for r in gw.journal.reader.query(faults)]
    await gw.stop()
    assert phases[:2] == ["alarm", "restore"]


async def test_watchdog_reports_the_plugin_that_blocks_the_loop(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\nplugins:\n  - {id: steady, plugin: tick, config: {period_s: 0.05}}\n"
        "  - {id: serial, plugin: blocking, config: {block_s: 2.0}}\n"
    )
    installed = discover(extra=[TickPlugin, BlockingPlugin])
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    try:
        for _ in range(60):
            await asyncio.sleep(0.1)
            if gw.journal.reader.query(Filter.build(kinds=["gateway.loop_blocked"])):
                break
        (stall,) = gw.journal.reader.query(Filter.build(kinds=["gateway.loop_blocked"]))
    finally:
        await gw.stop()
    event = stall.event
    assert event.source == "hq/serial"
    assert event.data["instance"] == "serial" and event.data["task"] == "serial:poll"
    assert event.data["blocked_s"] >= 1.9
    assert "_poll_serial_port" in event.data["culprit"]
    assert "time.sleep(self.config.block_s)" in event.data["stack"]
    assert gw.runners["serial"].status.stalls == 1
