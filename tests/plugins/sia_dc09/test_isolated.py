"""The receiver with ``isolation: process``: the plugin runs in a child process of its own, and
every registry call it makes (areas, supervision, the panel's clock) reaches the host's registry.

Before the child's registry had ``area_of`` and ``heard``, the first frame with an area failed
in the child and the panel got no answer at all, frame after frame."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.host.process import IsolatedPlugin
from gateway.host.process.remote import RemoteRegistry
from gateway.journal import Filter
from gateway.model.entities import DeviceStatus
from gateway.sdk.discovery import discover
from plugins.sia_dc09.dc09 import build_frame

CONFIG = """\
site: {{id: hq}}
plugins:
  - id: rx
    plugin: sia_dc09
    isolation: process
    config:
      tcp_port: {port}
      accounts:
        - {{account: "1234", name: Branch panel, supervision_s: 30}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def exchange(port: int, *frames: bytes) -> list[bytes]:
    """A panel's connection: each frame, then its answer (none within 10 s: b"")."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for frame in frames:
            writer.write(frame)
            try:
                answers.append(await asyncio.wait_for(reader.readuntil(b"\r"), 10))
            except (TimeoutError, asyncio.IncompleteReadError):
                answers.append(b"")
    finally:
        writer.close()
    return answers


async def test_an_isolated_receiver_acks_journals_and_registers_areas(tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(CONFIG.format(port=port))
    installed = discover()
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    try:
        runner = gw.runners["rx"]
        for _ in range(6000):  # up to 60 s on a loaded machine
            if runner.status.state is InstanceState.RUNNING:
                break
            await asyncio.sleep(0.01)
        assert isinstance(runner.plugin, IsolatedPlugin)
        now = datetime.now(UTC)
        answers = await exchange(
            port,
            build_frame("SIA-DCS", 1, "1234", "#1234|Nri2/BA012", timestamp=now),
            build_frame("SIA-DCS", 2, "1234", "#1234|Nri2/BA013", timestamp=now),
            build_frame("NULL", 0, "1234", ""),
        )
        assert [a[9:20] for a in answers] == [b'"ACK"0001L0', b'"ACK"0002L0', b'"ACK"0000L0']
        got = [
            r.event for r in gw.journal.reader.query(Filter.build(kinds=["intrusion"]), limit=100)
        ]
        assert [(e.source, e.area, e.plugin) for e in got] == [
            ("hq/acct-1234/zone-12", "2", "rx"),
            ("hq/acct-1234/zone-13", "2", "rx"),
        ]
        area = gw.registry.area_of("hq/acct-1234", "2")  # registered by the child, once
        assert area is not None and area.device == "hq/acct-1234" and area.local_id == "2"
        panel = gw.registry.devices["hq/acct-1234"]
        assert panel.name == "Branch panel" and panel.status is DeviceStatus.ONLINE
        assert panel.supervision_s == 30 and panel.last_seen is not None
        assert panel.clock_offset_s is not None and abs(panel.clock_offset_s) < 5
    finally:
        await gw.stop()


def test_the_childs_registry_offers_what_plugins_call() -> None:
    """Every registry method the shipped plugins and the SDK helpers call: a plugin cannot tell
    it runs isolated (the names are read from their source, so a new call is checked too)."""
    import re

    root = Path(__file__).resolve().parents[3]
    sources = [*root.glob("plugins/**/*.py"), *root.glob("gateway/sdk/**/*.py")]
    called = {
        name
        for path in sources
        for name in re.findall(r"\bregistry\.([a-z_]+)\(", path.read_text(encoding="utf-8"))
    }
    assert {"upsert_device", "heard", "area_of"} <= called  # the scan finds the calls
    missing = sorted(name for name in called if not callable(getattr(RemoteRegistry, name, None)))
    assert missing == []


async def _started(tmp_path: Path, text: str) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(text)
    installed = discover()
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    for _ in range(6000):  # up to 60 s on a loaded machine
        if gw.runners["rx"].status.state is InstanceState.RUNNING:
            break
        await asyncio.sleep(0.01)
    return gw


async def test_an_isolated_receiver_recognises_a_repeat_after_a_restart(tmp_path: Path) -> None:
    """The child reads back what it journaled before the restart (``ctx.journal``), so a frame
    repeated because its ACK was lost is answered again and journaled once. Without the
    journal in the child it was journaled twice."""
    port = free_port()
    text = CONFIG.format(port=port)
    frame = build_frame("SIA-DCS", 5, "1234", "#1234|Nri2/BA012", timestamp=datetime.now(UTC))
    gw = await _started(tmp_path, text)
    try:
        assert (await exchange(port, frame))[0][9:20] == b'"ACK"0005L0'
    finally:
        await gw.stop()
    gw = await _started(tmp_path, text)
    try:
        assert isinstance(gw.runners["rx"].plugin, IsolatedPlugin)
        assert (await exchange(port, frame))[0][9:20] == b'"ACK"0005L0'
        got = gw.journal.reader.query(Filter.build(kinds=["intrusion"]), limit=100)
        assert len(got) == 1, f"journaled {len(got)} times"
    finally:
        await gw.stop()
