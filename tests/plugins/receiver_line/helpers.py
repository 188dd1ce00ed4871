"""A gateway running the bridge on a real journal in a temporary directory."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.sdk import ManualClock
from gateway.sdk.discovery import discover
from plugins.receiver_line.plugin import ReceiverLinePlugin
from plugins.receiver_line.transport import TcpServerLink

INSTANCE = "arc"
WAIT_S = 30.0


def installed() -> Any:
    """Installed plugins plus this one (its entry point may not be installed yet)."""
    return discover(extra=[ReceiverLinePlugin])


def write_config(tmp_path: Path, config: dict[str, Any], isolation: str = "inline") -> Path:
    path = tmp_path / "anfang.yaml"
    entry = {"id": INSTANCE, "plugin": "receiver_line", "isolation": isolation, "config": config}
    doc = {"site": {"id": "hq"}, "plugins": [entry]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


async def start_gateway(
    tmp_path: Path,
    config: dict[str, Any],
    clock: ManualClock | None = None,
    isolation: str = "inline",
) -> Gateway:
    found = installed()
    kw: dict[str, Any] = {} if clock is None else {"clock": clock}
    gw = Gateway(
        load_config(write_config(tmp_path, config, isolation), found.classes),
        found,
        data_dir=tmp_path / "data",
        **kw,
    )
    await gw.start()
    await wait_for(lambda: gw.runners[INSTANCE].status.state is InstanceState.RUNNING)
    return gw


def bridge(gw: Gateway) -> ReceiverLinePlugin:
    plugin = gw.runners[INSTANCE].plugin
    assert isinstance(plugin, ReceiverLinePlugin)
    return plugin


def server_port(gw: Gateway) -> int:
    link = bridge(gw).link
    assert isinstance(link, TcpServerLink)
    return link.port


async def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        await asyncio.sleep(0.02)


def events(gw: Gateway, kind: str = "", plugin: str = INSTANCE) -> list[Any]:
    flt = Filter.build(kinds=[kind]) if kind else Filter.build()
    return [r.event for r in gw.journal.reader.query(flt, limit=10_000) if r.event.plugin == plugin]


def codes(gw: Gateway) -> list[str]:
    return [str(e.code) for e in events(gw)]


@contextlib.contextmanager
def journal_held(gw: Gateway) -> Iterator[None]:
    """Another connection holds the journal database's write lock, as a long checkpoint or a
    slow disk would: the writer's commit waits (SQLite busy timeout 5 s) until it is let go."""
    conn = sqlite3.connect(gw.journal.db_path, isolation_level=None, timeout=10)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()
