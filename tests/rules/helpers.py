"""A real gateway (real journal, the test panel plugin) with rules, and ways to feed it events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter, JournalReader
from gateway.model.command import Command
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.rules.engine import RUN_KIND
from gateway.sdk.clock import ManualClock
from gateway.sdk.discovery import discover
from tests.host.plugins import PanelPlugin

BASE = """\
site: {id: hq, timezone: Asia/Shanghai}
plugins:
  - {id: panel, plugin: panel}
areas:
  - {name: vault, device: hq/panel-1, local_id: "1"}
  - {name: lobby}
"""

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 20:00 in Shanghai


def make_gateway(tmp_path: Path, rules: str, clock: ManualClock | None = None) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(BASE + rules)
    installed = discover(extra=[PanelPlugin])
    loaded = load_config(cfg, installed.classes)
    return Gateway(
        loaded,
        installed,
        data_dir=tmp_path / "data",
        backoff_initial_s=0.05,
        clock=clock or ManualClock(START),
    )


async def started(tmp_path: Path, rules: str, clock: ManualClock | None = None) -> Gateway:
    gw = make_gateway(tmp_path, rules, clock)
    await gw.start()
    for _ in range(6000):  # up to 60 s on a loaded machine
        if gw.runners["panel"].status.state is InstanceState.RUNNING:
            break
        await asyncio.sleep(0.01)
    return gw


async def emit(
    gw: Gateway,
    kind: str,
    source: str = "hq/panel-1/zone-1",
    phase: Phase = Phase.ALARM,
    at: datetime | None = None,
    **fields: Any,
) -> Event:
    """Journal an event as a plugin would, received at ``at`` (default: the gateway clock)."""
    when = at or gw.clock.now()
    event = Event(
        kind=kind,
        phase=phase,
        priority=fields.pop("priority", 2),
        source=source,
        occurred_at=when,
        received_at=when,
        plugin="panel",
        **fields,
    )
    seq = await gw.journal.append(event)
    return event.model_copy(update={"seq": seq})


async def judged(gw: Gateway) -> None:
    """Until the engine has read everything journaled so far (runs may still be going)."""
    assert gw.rules is not None
    for _ in range(2000):
        if gw.rules.processed >= gw.journal.committed_seq:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the rule engine did not catch up with the journal")


async def settled(gw: Gateway) -> None:
    assert gw.rules is not None
    await asyncio.wait_for(gw.rules.settled(), 10)


def runs(gw: Gateway) -> list[dict[str, Any]]:
    """The data of every rules.run record, in journal order."""
    records = gw.journal.reader.query(Filter.build(kinds=[RUN_KIND]), limit=1000)
    return [r.event.data for r in records]


def runs_in(data_dir: Path) -> list[dict[str, Any]]:
    reader = JournalReader.open(data_dir)
    try:
        return [r.event.data for r in reader.query(Filter.build(kinds=[RUN_KIND]), limit=1000)]
    finally:
        reader.close()


def commands(gw: Gateway) -> list[Command]:
    records = gw.journal.reader.query(Filter.build(types=["command"]), limit=1000)
    out = []
    for r in records:
        assert isinstance(r.model, Command)
        out.append(r.model)
    return out


def later(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


async def until(check: Callable[[], bool], what: str) -> None:
    """Poll (on the event loop, not the gateway clock) until ``check()`` holds."""
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")
