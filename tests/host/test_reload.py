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
    for _ in range(200):
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
