"""API fan-out: 100 WebSocket clients following 1,000 events/s, against a bare broadcast server.

- ``anfang``: ``anfang run`` with the DC-09 receiver; this script plays 100 panels sending 1,000
  frames/s together, so each event takes the real path (receiver, durable journal commit,
  stream consumer, WebSocket) to 100 clients following with ``batch=true``, as a platform
  would. Lag = time a client received the event minus the event's ``received_at`` (one
  machine, one clock).
- ``bare``: a ``websockets`` server (a separate process) that makes the same number of
  same-sized events itself and every ``COALESCE_S`` broadcasts what gathered to every client as
  one array (the gateway's batching policy, without journal, auth or ASGI): the ceiling, on
  uvloop when it is installed.
- The clients run in four processes of their own, so neither server is measured against one
  overloaded client process.
- Query: events per second served by ``GET /api/v1/events`` pages of 1,000.
- Warm-up: both servers are fed for ``WARMUP_S`` before the measured seconds, as the other
  benches warm up. In the gateway these are the panels' first contact: a hundred panels and
  800 zones registered, 800 incidents opened at once. Their lag is reported on its own
  (``ws_p99_lag_ms_warmup``), not mixed into the steady fan-out figure.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import websockets

from bench._common import add_event_loop_option, emit, percentile
from gateway import event_loop
from gateway.api.stream import COALESCE_S
from plugins.sia_dc09.dc09 import build_frame

REPO = Path(__file__).resolve().parent.parent
RATE = 1000.0
CLIENTS = 100
FOLLOWER_PROCESSES = 4
PANELS = 100
WARMUP_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}") from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the bare ceiling (run with --serve-bare) ----------------------------------------------------


def serve_bare(port: int, seconds: float) -> None:
    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def main() -> None:
        async with websockets.serve(handler, "127.0.0.1", port, compression=None):
            while len(clients) < CLIENTS:  # noqa: ASYNC110 - a short wait for all clients
                await asyncio.sleep(0.05)
            start, n = time.perf_counter(), 0
            wall = datetime.now(UTC)
            while time.perf_counter() - start < seconds:
                due = int((time.perf_counter() - start) * RATE)  # events owed by now
                batch = []
                while n < due:
                    n += 1  # stamped with when it was due, as the gateway stamps arrival
                    stamp = (wall + timedelta(seconds=n / RATE)).isoformat()
                    batch.append({"seq": n, "event": {"received_at": stamp, "kind": "intrusion",
                                                      "pad": "x" * 600}})  # fmt: skip
                if batch:  # what gathered since the last send, as one array: the same policy
                    websockets.broadcast(clients, json.dumps(batch))
                await asyncio.sleep(COALESCE_S)

    event_loop.run(main())  # the best loop installed: a ceiling


# -- clients (run with --follow, several processes) ----------------------------------------------


STAMP = re.compile(r'"received_at":\s*"([^"]+)"')


def lags_in(text: str, now: datetime) -> list[tuple[int, float]]:
    """For each event: the tenth of a second its ``received_at`` falls in (epoch) and the
    seconds from it to ``now``; finds the stamps without parsing the whole message (one event
    or a batch). The search and the conversions run in C, leaving one comprehension step per
    event: the clients share the machine with the server they measure, so their own CPU would
    show up as its lag."""
    now_s = now.timestamp()
    stamps = map(datetime.timestamp, map(datetime.fromisoformat, STAMP.findall(text)))
    return [(int(at * 10), now_s - at) for at in stamps]


async def follow(ws: Any, seconds: float, lags: list[tuple[int, float]]) -> int:
    """Receive for ``seconds`` under one deadline (not a ``wait_for`` per message, which costs
    a task each in the client processes that share the machine with the server)."""
    received = 0
    async with ws:
        try:
            async with asyncio.timeout(seconds):
                async for message in ws:
                    text = message if isinstance(message, str) else message.decode()
                    got = lags_in(text, datetime.now(UTC))
                    lags.extend(got)
                    received += len(got)
        except (TimeoutError, websockets.ConnectionClosed):
            pass  # the time is up, or the server finished its run first
    return received


def run_followers(url: str, token: str, clients: int, seconds: float) -> None:
    """A follower process: connects ``clients`` WebSockets, prints ``ready``, follows for
    ``seconds``, then prints the received count and a lag histogram as JSON (keyed
    ``"<tenth of a second stamped>:<lag in 0.1 ms>"``)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    lags: list[tuple[int, float]] = []
    # A follower keeps every lag it saw, some 200,000 tuples a process by the end: a full
    # collection over them stalls the follower for tens of milliseconds, which it would then
    # report as the server's lag. It makes no reference cycles worth collecting in its seconds.
    gc.disable()

    async def main() -> int:
        sockets = await asyncio.gather(
            *(
                websockets.connect(url, additional_headers=headers, max_size=2**22)
                for _ in range(clients)
            )
        )
        print("ready", flush=True)
        counts = await asyncio.gather(*(follow(ws, seconds, lags) for ws in sockets))
        return sum(counts)

    received = asyncio.run(main())
    histogram: dict[str, int] = {}
    for tenth, lag in lags:
        key = f"{tenth}:{round(lag * 10_000)}"
        histogram[key] = histogram.get(key, 0) + 1
    print(json.dumps({"received": received, "histogram": histogram}))


def start_followers(url: str, token: str, seconds: float) -> list[subprocess.Popen[bytes]]:
    """The follower processes, returned once every client is connected (each says ``ready``):
    a client that connected late would miss the first events and count as a loss."""
    per = CLIENTS // FOLLOWER_PROCESSES
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--follow", url, token or "-", str(per), str(seconds)],
            cwd=REPO,
            stdout=subprocess.PIPE,
        )
        for _ in range(FOLLOWER_PROCESSES)
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("a follower process could not connect its clients")
    return procs


def collect_followers(procs: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    """Total deliveries, and every lag in seconds (expanded from the histograms) split into
    the warm-up's and the measured seconds' by when each event was stamped."""
    received, stamped = 0, []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        result = json.loads(out.decode().strip().splitlines()[-1])
        received += result["received"]
        for key, count in result["histogram"].items():
            tenth, bucket = key.split(":")
            stamped.append((int(tenth), int(bucket) / 10_000, count))
    measured_from = min((tenth for tenth, _, _ in stamped), default=0) + WARMUP_S * 10
    warm: list[float] = []
    lags: list[float] = []
    for tenth, lag, count in stamped:
        (warm if tenth < measured_from else lags).extend([lag] * count)
    return {"received": received, "lags": lags, "warmup_lags": warm}


# -- feeders ------------------------------------------------------------------------------------


async def feed_panels(port: int, seconds: float) -> int:
    """PANELS connections, together sending RATE frames per second, each awaiting its ACK."""
    sent = 0

    async def panel(i: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        gap = PANELS / RATE
        start = time.perf_counter() + i * gap / PANELS
        seq = 0
        while time.perf_counter() - start < seconds:
            seq = seq % 9999 + 1
            account = f"{0x2000 + i:04X}"
            data = f"#{account}|Nri1/BA{seq % 8 + 1:03d}"
            writer.write(build_frame("SIA-DCS", seq, account, data, timestamp=datetime.now(UTC)))
            await reader.readuntil(b"\r")
            sent += 1
            await asyncio.sleep(max(0.0, start + seq * gap - time.perf_counter()))
        writer.close()

    await asyncio.gather(*(panel(i) for i in range(PANELS)))
    return sent


async def measure_anfang(seconds: float, loop: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="api-bench-", dir=REPO / "bench") as tmp:
        api_port, rx_port = free_port(), free_port()
        accounts = ", ".join(f'{{account: "{0x2000 + i:04X}"}}' for i in range(PANELS))
        cfg = Path(tmp) / "anfang.yaml"
        cfg.write_text(
            f"site: {{id: bench}}\nlog: {{level: warning}}\napi: {{port: {api_port}}}\n"
            f"event_loop: {loop}\n"
            f"plugins:\n  - {{id: rx, plugin: sia_dc09, config: {{tcp_port: {rx_port}, "
            f"accounts: [{accounts}]}}}}\n"
        )
        data = Path(tmp) / "data"
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measuring
            [sys.executable, "-m", "gateway.cli", "--data-dir", str(data), "run", "-c", str(cfg)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(api_port, proc)
            wait_port(rx_port, proc)
            token = (data / "admin.token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            url = f"ws://127.0.0.1:{api_port}/api/v1/events/stream?kind=intrusion&batch=true"
            followers = start_followers(url, token, WARMUP_S + seconds + 3)
            sent = await feed_panels(rx_port, WARMUP_S + seconds)
            followed = await asyncio.to_thread(collect_followers, followers)
            query = await query_rate(api_port, headers)
        finally:
            stop(proc)
    return {"sent": sent, **followed, **query}


async def query_rate(port: int, headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        after, served, started = 0, 0, time.perf_counter()
        while True:
            page = (await http.get("/api/v1/events", params={"after": after, "limit": 1000})).json()
            if not page["events"]:
                break
            served += len(page["events"])
            after = page["next_after"]
        elapsed = time.perf_counter() - started
    return {"query_events": served, "query_events_per_s": round(served / elapsed, 1)}


async def measure_bare(seconds: float) -> dict[str, Any]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measuring
        [sys.executable, __file__, "--serve-bare", str(port), str(WARMUP_S + seconds)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        followers = start_followers(f"ws://127.0.0.1:{port}", "", WARMUP_S + seconds + 2)
        followed = await asyncio.to_thread(collect_followers, followers)
    finally:
        stop(proc)
    return followed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    p.add_argument("--serve-bare", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--follow", nargs=4, help=argparse.SUPPRESS)
    add_event_loop_option(p)
    args = p.parse_args()
    if args.follow:
        url, token, clients, seconds = args.follow
        run_followers(url, "" if token == "-" else token, int(clients), float(seconds))
        return
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), float(args.serve_bare[1]))
        return
    seconds = 5.0 if args.quick else 20.0
    ours = asyncio.run(measure_anfang(seconds, args.event_loop))
    bare = asyncio.run(measure_bare(seconds))
    ours_p99 = percentile(ours["lags"], 99) * 1000
    bare_p99 = percentile(bare["lags"], 99) * 1000
    ours_rate = ours["received"] / CLIENTS / (WARMUP_S + seconds)
    bare_rate = bare["received"] / CLIENTS / (WARMUP_S + seconds)
    warm_p99 = percentile(ours["warmup_lags"], 99) * 1000
    p50 = percentile(ours["lags"], 50) * 1000
    print(f"anfang: {ours['sent']} events fed, {ours['received']} deliveries, lag p50 {p50:.1f} ms")
    print(f"        p99 {ours_p99:.1f} ms (warm-up, first contact: p99 {warm_p99:.1f} ms)")
    print(f"bare:   {bare['received']} deliveries, lag p99 {bare_p99:.1f} ms")
    emit(
        {
            "quick": args.quick,
            "clients": CLIENTS,
            "event_loop": args.event_loop,
            "offered_events_per_s": RATE,
            "ws_p50_lag_ms": round(percentile(ours["lags"], 50) * 1000, 2),
            "ws_p99_lag_ms": round(ours_p99, 2),
            "bare_p99_lag_ms": round(bare_p99, 2),
            "warmup_s": WARMUP_S,
            "ws_p99_lag_ms_warmup": round(warm_p99, 2),
            "ws_events_per_s_per_client": round(ours_rate, 1),
            "bare_events_per_s_per_client": round(bare_rate, 1),
            "ws_vs_bare_ratio": round(ours_rate / bare_rate, 3) if bare_rate else None,
            "ws_vs_bare_p99_lag_ratio": round(ours_p99 / bare_p99, 3) if bare_p99 else None,
            "query_events_per_s": ours["query_events_per_s"],
            "query_events": ours["query_events"],
            "delivered_ratio": round(ours["received"] / (ours["sent"] * CLIENTS), 4)
            if ours["sent"]
            else None,
        }
    )


if __name__ == "__main__":
    main()
