"""A gateway with the modbus plugin, polling real pymodbus servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.model.command import Command
from gateway.sdk.discovery import discover
from plugins.modbus.plugin import ModbusPlugin

WAIT_S = 40.0
"""Generous: a loaded 2-core machine polls late, but it polls."""


async def start_gateway(tmp_path: Path, config: str) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(config)
    installed = discover()
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    await wait_for(lambda: gw.runners["power"].status.state is InstanceState.RUNNING)
    return gw


def plugin(gw: Gateway) -> ModbusPlugin:
    instance = gw.runners["power"].plugin
    assert isinstance(instance, ModbusPlugin)
    return instance


async def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        await asyncio.sleep(0.05)


def events(gw: Gateway, kind: str = "", source: str = "") -> list[Any]:
    flt = Filter.build(kinds=[kind]) if kind else Filter.build()
    out = [r.event for r in gw.journal.reader.query(flt, limit=100_000)]
    return [e for e in out if not source or e.source == source]


def phases(gw: Gateway, kind: str, source: str) -> list[str]:
    return [str(e.phase) for e in events(gw, kind, source)]


def telemetry(gw: Gateway, source: str, point: str) -> list[object]:
    """Every value ``point`` took in the telemetry events of ``source``, in journal order."""
    return [
        e.data["values"][point]
        for e in events(gw, "modbus.telemetry", source)
        if point in e.data["values"]
    ]


def cmd(target: str, action: str, **params: Any) -> Command:
    return Command(target=target, action=action, params=params, issued_by="test")
