"""DC-09 forwarding: a journal backlog to a second Anfang's receiver, each event ACKed.

Three measurements, each against its own fresh receiving gateway (``anfang run`` with the
sia_dc09 receiver, in its own process, every event durably journaled before its ACK):

- ``direct``: the receiving side's own ingest of the same frames — this process sends them
  straight to the receiver over as many TCP connections as the forwarder uses, each frame after
  the previous ACK on its connection (one message in flight per connection, as the forwarder
  sends). The ceiling for the forwarder.
- ``forward``: a gateway in this process with a journal backlog of N events (100,000; --quick
  5,000) starts the dc09_forward connector; events/s = N / time until the last ACK.
- ``failover``: default timers; events stream at 50/s over a primary path (a relay in this
  process) to the receiver; the relay stops answering (connections stay open, nothing comes
  back: the slow case — a refused connection fails over in about retry_delay_s); failover_s =
  time from that moment to the first ACK over the backup path.

This process runs on the loop ``anfang run`` would pick (``--event-loop``), for the forwarder
and the direct sender alike. Last line: one JSON object with events_per_s, vs_direct_ratio and
failover_s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import add_event_loop_option, emit, filesystem_of
from gateway import event_loop
from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk.discovery import discover
from plugins.dc09_forward.config import DEFAULT_CONNECTIONS, Format
from plugins.dc09_forward.encode import encode
from plugins.dc09_forward.paths import Role
from plugins.dc09_forward.plugin import Dc09ForwardPlugin
from plugins.sia_dc09.dc09 import build_frame

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "BE1C"
APPEND_CONCURRENCY = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the receiving gateway -----------------------------------------------------------------------


def start_centre(port: int, home: Path) -> subprocess.Popen[bytes]:
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "centre.yaml"
    cfg.write_text(
        "site: {id: arc}\nlog: {level: warning}\napi: {enabled: false}\nplugins:\n"
        f"  - {{id: rx, plugin: sia_dc09, config: {{tcp_port: {port}, "
        f'accounts: [{{account: "{ACCOUNT}"}}]}}}}\n'
    )
    argv = [sys.executable, "-m", "gateway.cli", "--data-dir", str(home / "centre"), "run"]
    proc = subprocess.Popen(
        [*argv, "-c", str(cfg)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the receiving gateway exited with {proc.returncode}") from None
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the receiving gateway did not start")


def stop_centre(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- events and frames ---------------------------------------------------------------------------


def event(n: int) -> Event:
    return Event(
        kind="intrusion",
        phase=Phase.ALARM if n % 2 else Phase.RESTORE,
        priority=2,
        source=f"bench/panel-{n % 16}/zone-{n % 100 + 1}",
        zone=str(n % 100 + 1),
        area=str(n % 4 + 1),
        plugin="bench",
    )


def frames(count: int) -> list[bytes]:
    """The frames the forwarder sends for the same events (sequence 1.., current time)."""
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        report = encode(event(n), Format.SIA_DCS, ACCOUNT, "general")
        assert report is not None
        out.append(build_frame(report.token, n % 9999 + 1, ACCOUNT, report.data, timestamp=now))
    return out


# -- measurements --------------------------------------------------------------------------------


async def direct(port: int, count: int, connections: int) -> dict[str, Any]:
    """The same frames straight to the receiver, over as many connections as the forwarder
    uses, one frame in flight on each: the ceiling the forwarder is measured against."""
    payload = frames(count)
    share = [payload[i::connections] for i in range(connections)]

    async def one(chunk: list[bytes]) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        acked = 0
        try:
            for frame in chunk:
                writer.write(frame)
                answer = await reader.readuntil(b"\r")
                acked += b'"ACK"' in answer
        finally:
            writer.close()
        return acked

    started = time.perf_counter()
    acked = sum(await asyncio.gather(*(one(chunk) for chunk in share)))
    elapsed = time.perf_counter() - started
    return {
        "acked": acked,
        "connections": connections,
        "seconds": round(elapsed, 2),
        "per_s": round(acked / elapsed, 1),
    }


def gateway(home: Path, entries: list[dict[str, Any]]) -> Gateway:
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "anfang.yaml"
    plugins = "".join(f"  - {json.dumps(e)}\n" for e in entries)
    cfg.write_text(
        "site: {id: bench}\nlog: {level: warning}\n"
        + (f"plugins:\n{plugins}" if entries else "plugins: []\n")
    )
    installed = discover(extra=[Dc09ForwardPlugin])
    return Gateway(load_config(cfg, installed.classes), installed, data_dir=home / "data")


def forwarder_entry(primary: int, backup: int | None = None, **timers: Any) -> dict[str, Any]:
    rx: dict[str, Any] = {
        "name": "arc",
        "account": ACCOUNT,
        "primary": {"host": "127.0.0.1", "port": primary},
        "kinds": ["intrusion"],
    }
    if backup is not None:
        rx["backup"] = {"host": "127.0.0.1", "port": backup}
    return {
        "id": "fwd",
        "plugin": "dc09_forward",
        "config": {"receivers": [rx], "history": True, **timers},
    }


def plugin_of(gw: Gateway) -> Dc09ForwardPlugin:
    plugin = gw.runners["fwd"].plugin
    assert isinstance(plugin, Dc09ForwardPlugin)
    return plugin


async def backlog(home: Path, count: int) -> float:
    """Journal ``count`` events with no consumer running; returns seconds taken."""
    gw = gateway(home, [])
    await gw.start()
    started = time.perf_counter()
    try:
        for first in range(0, count, APPEND_CONCURRENCY):
            last = min(count, first + APPEND_CONCURRENCY)
            await asyncio.gather(*(gw.journal.append(event(n)) for n in range(first, last)))
    finally:
        await gw.stop()
    return time.perf_counter() - started


async def forward(home: Path, port: int, count: int) -> dict[str, Any]:
    gw = gateway(home, [forwarder_entry(port)])
    started = time.perf_counter()
    await gw.start()
    try:
        while True:
            runner = gw.runners["fwd"]
            if runner.status.state is InstanceState.RUNNING and runner.plugin is not None:
                stats = plugin_of(gw).forwarders["arc"].stats
                if stats["acked"] >= count:
                    break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        stats = plugin_of(gw).forwarders["arc"].stats
    finally:
        await gw.stop()
    return {
        "acked": stats["acked"],
        "nak": stats["nak"],
        "retries": stats["primary_failures"],
        "seconds": round(elapsed, 2),
        "per_s": round(stats["acked"] / elapsed, 1),
    }


class Relay:
    """A TCP relay that can stop answering: bytes stop flowing, connections stay open."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.frozen = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        try:
            await self._relay(reader, writer)
        except asyncio.CancelledError:
            writer.transport.abort()  # closing: end quietly (asyncio logs a cancelled handler)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.frozen.is_set():
            await asyncio.Event().wait()  # accepted, never served
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with suppress(ConnectionError, asyncio.IncompleteReadError):
                while data := await src.read(4096):
                    if self.frozen.is_set():
                        await asyncio.Event().wait()
                    dst.write(data)
                    await dst.drain()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            writer.close()
            up_writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.frozen.clear()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def failover(home: Path, port: int) -> dict[str, Any]:
    relay = Relay(port)
    await relay.start()
    gw = gateway(home, [forwarder_entry(relay.port, port)])  # default timers
    await gw.start()
    stop = asyncio.Event()

    async def stream() -> None:
        n = 0
        while not stop.is_set():
            await gw.journal.append(event(n))
            n += 1
            await asyncio.sleep(0.02)

    feeder = asyncio.create_task(stream())
    try:
        while True:
            runner = gw.runners["fwd"]
            if runner.plugin is not None and plugin_of(gw).forwarders["arc"].stats["acked"] >= 50:
                break
            await asyncio.sleep(0.02)
        fwd = plugin_of(gw).forwarders["arc"]
        outage = time.monotonic()
        relay.frozen.set()
        while Role.BACKUP not in fwd.first_ack_at:  # noqa: ASYNC110 - set by its task
            await asyncio.sleep(0.01)
        seconds = fwd.first_ack_at[Role.BACKUP] - outage
        return {"failover_s": round(seconds, 2), "failovers": fwd.stats["failover"]}
    finally:
        stop.set()
        await feeder
        await gw.stop()
        await relay.close()


def run(count: int, loop: event_loop.EventLoopChoice = "auto") -> dict[str, Any]:
    """Each part on ``loop``, the gateway's and the direct sender's alike."""
    with tempfile.TemporaryDirectory(prefix="dc09-fwd-bench-", dir=REPO / "bench") as tmp:
        home = Path(tmp)
        port = free_port()
        centre = start_centre(port, home / "c1")
        try:
            ceiling = event_loop.run(direct(port, count, DEFAULT_CONNECTIONS), loop)
        finally:
            stop_centre(centre)
        print(f"direct ingest: {ceiling}", flush=True)
        prefill_s = event_loop.run(backlog(home / "site", count), loop)
        print(f"backlog of {count} journaled in {prefill_s:.1f} s", flush=True)
        port = free_port()
        centre = start_centre(port, home / "c2")
        try:
            forwarded = event_loop.run(forward(home / "site", port, count), loop)
        finally:
            stop_centre(centre)
        print(f"forwarded: {forwarded}", flush=True)
        port = free_port()
        centre = start_centre(port, home / "c3")
        try:
            switched = event_loop.run(failover(home / "fo", port), loop)
        finally:
            stop_centre(centre)
        print(f"failover: {switched}", flush=True)
        fs = filesystem_of(home)
    return {
        "events_per_s": forwarded["per_s"],
        "direct_events_per_s": ceiling["per_s"],
        "vs_direct_ratio": round(forwarded["per_s"] / ceiling["per_s"], 3),
        "failover_s": switched["failover_s"],
        "backlog": count,
        "forward_seconds": forwarded["seconds"],
        "naks": forwarded["nak"],
        "connections": DEFAULT_CONNECTIONS,
        "filesystem": fs,
        "event_loop": event_loop.resolve(loop),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="a 5,000-event backlog (under a minute)")
    add_event_loop_option(p)
    args = p.parse_args()
    result = run(5_000 if args.quick else 100_000, args.event_loop)
    emit({"quick": args.quick, **result})


if __name__ == "__main__":
    main()
