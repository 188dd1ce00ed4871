"""Two gateways in this process — A forwards, B receives — and socat relays as network paths.

Gateway A runs the forwarder (registered the way tests register plugin classes without an
entry point: ``discover(extra=[...])``), optionally with its own sia_dc09 receiver for panels.
Gateway B is a second Anfang with the sia_dc09 receiver: the alarm receiving centre. Each DC-09
path is a ``socat`` relay in front of B's listener, so a path can be cut (SIGKILL: connections
refused) or made to stop answering (SIGSTOP: connections accepted, nothing comes back) while B
itself keeps running — two networks into one centre, as a dual-path ATS has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk.discovery import discover
from plugins.dc09_forward.forwarder import ReceiverForwarder
from plugins.dc09_forward.plugin import Dc09ForwardPlugin
from plugins.sia_dc09.plugin import SiaDc09Plugin

WAIT_S = 60.0
"""Generous: the machine may be slow and loaded; never a measure of speed."""
ACCOUNT = "ACC1"
KEY_HEX = "00112233445566778899AABBCCDDEEFF"
FAST = {
    "answer_timeout_s": 1.0,
    "failover_after": 2,
    "failback_after": 2,
    "retry_delay_s": 0.1,
    "retry_max_delay_s": 0.5,
    "link_test_s": 0.3,
    "probe_s": 0.3,
    "path_supervision_s": 1.5,
}
"""Short timers so tests never sleep long; the defaults are measured in bench/."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SkewedClock:
    """The system clock read ``offset`` off: a gateway whose wall clock is wrong."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def write_config(path: Path, site: str, entries: list[dict[str, Any]]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    cfg = path / "anfang.yaml"
    cfg.write_text(
        f"site: {{id: {site}}}\nplugins:\n" + "".join(f"  - {json.dumps(e)}\n" for e in entries)
    )
    return cfg


def make_gateway(path: Path, site: str, entries: list[dict[str, Any]], **kw: Any) -> Gateway:
    installed = discover(extra=[Dc09ForwardPlugin])
    loaded = load_config(write_config(path, site, entries), installed.classes)
    return Gateway(loaded, installed, data_dir=path / "data", backoff_initial_s=0.05, **kw)


def forwarder_entry(receivers: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    config = {"receivers": receivers, "history": True, **FAST, **settings}
    return {"id": "fwd", "plugin": "dc09_forward", "config": config}


def receiver(
    primary: int, backup: int | None = None, *, name: str = "arc", **fields: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "account": ACCOUNT,
        "primary": {"host": "127.0.0.1", "port": primary},
        "kinds": ["intrusion", "fire", "panic", "test", "trouble", "arming"],
        **fields,
    }
    if backup is not None:
        out["backup"] = {"host": "127.0.0.1", "port": backup}
    return out


def centre_entry(port: int, *, key_hex: str | None = None, **config: Any) -> dict[str, Any]:
    account: dict[str, Any] = {"account": ACCOUNT}
    if key_hex is not None:
        account["key_hex"] = key_hex
    return {
        "id": "rx",
        "plugin": "sia_dc09",
        "config": {"tcp_port": port, "accounts": [account], **config},
    }


@contextlib.asynccontextmanager
async def running(gw: Gateway) -> AsyncIterator[Gateway]:
    await gw.start()
    try:
        await wait_running(gw)
        yield gw
    finally:
        await gw.stop()


async def wait_running(gw: Gateway) -> None:
    async with asyncio.timeout(WAIT_S):
        while not all(  # noqa: ASYNC110 - the runners change state in their own tasks
            r.status.state is InstanceState.RUNNING for r in gw.runners.values()
        ):
            await asyncio.sleep(0.02)


def forwarder(gw: Gateway, name: str = "arc") -> ReceiverForwarder:
    plugin = gw.runners["fwd"].plugin
    assert isinstance(plugin, Dc09ForwardPlugin)
    return plugin.forwarders[name]


def receiver_plugin(gw: Gateway, instance: str = "rx") -> SiaDc09Plugin:
    plugin = gw.runners[instance].plugin
    assert isinstance(plugin, SiaDc09Plugin)
    return plugin


def alarm(n: int, *, kind: str = "intrusion", phase: Phase = Phase.ALARM) -> Event:
    """A canonical event with a zone number that identifies it (``n``)."""
    return Event(
        kind=kind,
        phase=phase,
        priority=2,
        source=f"site-a/panel-1/zone-{n}",
        zone=str(n),
        area="1",
        text=f"event {n}",
        plugin="panel",
    )


def journal_events(gw: Gateway, plugin: str | None = None, kind: str = "") -> list[Event]:
    flt = Filter.build(kinds=[kind]) if kind else Filter.build()
    out = []
    for record in gw.journal.reader.query(flt, limit=1_000_000):
        event = record.event
        if plugin is None or event.plugin == plugin:
            out.append(event)
    return out


def zones_received(centre: Gateway) -> list[int]:
    """Zone numbers of the events the centre's receiver journaled, in journal order."""
    return [int(e.zone) for e in journal_events(centre, "rx") if e.zone is not None]


async def eventually(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the state lives in other tasks
            await asyncio.sleep(0.02)


@dataclass
class Relay:
    """A ``socat`` TCP relay on 127.0.0.1: one network path to the centre."""

    target: int
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Relay:
        self.port = self.port or free_port()
        self.proc = subprocess.Popen(
            [
                "socat",
                f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork",
                f"TCP:127.0.0.1:{self.target}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the per-connection children too
        )
        return self

    async def listening(self) -> None:
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                except OSError:
                    await asyncio.sleep(0.02)

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def cut(self) -> None:
        """The path is gone: connections reset, new ones refused."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def freeze(self) -> None:
        """The path stops answering: connections are accepted, nothing comes back."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._signal(signal.SIGCONT)
            self.cut()


@contextlib.contextmanager
def relays(*targets: int) -> Any:
    started = [Relay(t).start() for t in targets]
    try:
        yield started
    finally:
        for relay in started:
            relay.stop()
