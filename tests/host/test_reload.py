"""Reload restarts only the instances whose config changed; SIGHUP does it for ``anfang run``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.host.reload import ReloadError
from gateway.journal import Filter
from gateway.sdk.discovery import InstalledPlugins, discover
from tests.host.plugins import TickPlugin

BASE = """\
site: {{id: hq}}
plugins:
  - {{id: keep, plugin: tick, config: {{period_s: 0.05}}}}
  - {{id: change, plugin: tick, config: {{period_s: {period}}}}}
  - {{id: drop, plugin: tick, enabled: {drop_enabled}}}
{extra}
devices:
  - {{address: hq/tick-keep, name: {name}}}
"""


def write(
    path: Path, period: float = 0.05, drop: bool = True, extra: str = "", name: str = "A"
) -> None:
    path.write_text(
        BASE.format(period=period, drop_enabled=str(drop).lower(), extra=extra, name=name)
    )


async def wait_running(gw: Gateway) -> None:
    for _ in range(6000):  # up to 60 s on a loaded machine
        if all(r.status.state is InstanceState.RUNNING for r in gw.runners.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError({i: r.status for i, r in gw.runners.items()})


async def test_reload_restarts_only_changed_instances(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    write(cfg)
    installed: InstalledPlugins = discover(extra=[TickPlugin])
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    try:
        await wait_running(gw)
        keep_plugin = gw.runners["keep"].plugin
        change_plugin = gw.runners["change"].plugin
        write(
            cfg,
            period=0.02,
            drop=False,
            extra="  - {id: added, plugin: tick}",
            name="Lobby ticker",
        )
        plan = await gw.reload(load_config(cfg, installed.classes))
        assert (plan.restart, plan.stop, plan.start, plan.unchanged) == (
            ["change"],
            ["drop"],
            ["added"],
            ["keep"],
        )
        await wait_running(gw)
        assert set(gw.runners) == {"keep", "change", "added"}
        assert gw.runners["keep"].plugin is keep_plugin, "an unchanged instance was restarted"
        assert gw.runners["change"].plugin is not change_plugin
        assert gw.runners["change"].config.period_s == 0.02  # type: ignore[attr-defined]
        assert gw.registry.devices["hq/tick-keep"].name == "Lobby ticker", "pins re-applied"
        audits = gw.journal.reader.query(Filter.build(types=["audit"]))
        assert audits[-1].kind == "config.reload"

        bad = tmp_path / "other-site.yaml"
        bad.write_text("site: {id: elsewhere}\n")
        with pytest.raises(ReloadError, match="site.id changed"):
            await gw.reload(load_config(bad, installed.classes))
        assert set(gw.runners) == {"keep", "change", "added"}, "a refused reload changes nothing"
    finally:
        await gw.stop()


async def test_a_reload_racing_a_stop_does_not_break_the_shutdown(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    write(cfg)
    installed = discover(extra=[TickPlugin])
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    await wait_running(gw)
    write(cfg, period=0.02, drop=False)
    new = load_config(cfg, installed.classes)
    reload = asyncio.create_task(gw.reload(new))
    await asyncio.sleep(0)  # the reload holds the lock and is stopping instances
    await gw.stop()
    await asyncio.gather(reload, return_exceptions=True)
    assert gw.journal.closed
    assert all(r.status.state is InstanceState.STOPPED for r in gw.runners.values())
    with pytest.raises(ReloadError, match="not running"):
        await gw.reload(new)


async def test_every_fault_alarm_is_restored_across_reloads_and_restarts(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    broken = "site: {id: hq}\nplugins:\n  - {id: a, plugin: tick, config: {crash_in_start: true}}\n"
    fixed = "site: {id: hq}\nplugins:\n  - {id: a, plugin: tick}\n"
    installed = discover(extra=[TickPlugin])
    cfg.write_text(broken)

    async def faults(gw: Gateway) -> list[str]:
        await gw.journal.flush()
        found = gw.journal.reader.query(Filter.build(kinds=["plugin.fault"]))
        return [f"{r.phase}:{r.source}" for r in found]

    gw = Gateway(
        load_config(cfg, installed.classes),
        installed,
        data_dir=tmp_path / "data",
        backoff_initial_s=0.05,
    )
    await gw.start()
    await asyncio.sleep(0.2)
    await gw.stop()  # the alarm is still open when the gateway stops

    cfg.write_text(fixed)
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    await wait_running(gw)
    assert await faults(gw) == ["alarm:hq/a", "restore:hq/a"], "restored after the restart"

    cfg.write_text(broken)
    await gw.reload(load_config(cfg, installed.classes))
    await asyncio.sleep(0.2)
    cfg.write_text("site: {id: hq}\n")
    await gw.reload(load_config(cfg, installed.classes))  # the faulted instance is removed
    assert (await faults(gw))[2:] == ["alarm:hq/a", "restore:hq/a"]
    await gw.stop()
