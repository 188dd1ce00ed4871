"""Modbus polling: the plugin's engine against a naive one-request-per-point pymodbus loop.

A pymodbus server (its own process, started by re-running this script with ``--serve``) holds
50 simulated devices (unit ids 1..50) of 40 u16 points each, plus one unit id that never
answers. In this process:

- ``plugin``: the plugin's polling engine as the gateway runs it (one ``Line`` per device
  connection, block planner, value decoding and change detection in ``DeviceTracker``), with
  every point due as soon as it was read, so the figure is throughput;
- ``naive``: per device one pymodbus client reading its 40 points one request each, decoding
  each value; the same per-device concurrency (one request in flight per device).

Then the dead-unit cost: two lines polled at the same time, each a connection with 5 live
devices, one of them also carrying the never-answering unit; both saturated (points always
due), the plugin's defaults (500 ms timeout, probe every 10 s). The cost is how many fewer
points/s the live devices on the shared line get than those on the clean one, measured after a
warm-up that includes the dead unit's first timeout (steady state). Running both at once keeps
other load on the machine from deciding the figure (while the dead line waits, the clean line
gets the CPU, so the figure errs high).
The journal is not in the loop (see bench/journal.py for it). This process runs on the loop
``anfang run`` would pick (``--event-loop``), the plugin and the naive loop alike; the server
keeps asyncio's. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import add_event_loop_option, emit
from gateway import event_loop
from plugins.modbus.adapter import Endpoint, ModbusLink
from plugins.modbus.config import DEFAULT_PROBE_INTERVAL_S, DEFAULT_TIMEOUT_MS
from plugins.modbus.loader import load_profile, parse_profile
from plugins.modbus.mapping import DeviceTracker
from plugins.modbus.planner import Block
from plugins.modbus.profile import Profile
from plugins.modbus.scheduler import DeviceRuntime, Line

DEVICES = 50
POINTS = 40
DEAD_UNIT = 99
SHARED_LIVE = 5


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server (run with --serve) -------------------------------------------------------------


def serve(port: int) -> None:
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    forever = asyncio.Event()

    async def hang(*args: Any) -> None:
        await forever.wait()

    devices = [
        SimDevice(
            id=unit,
            simdata=[
                SimData(
                    0, values=[unit * 100 + i for i in range(POINTS)], datatype=DataType.REGISTERS
                )
            ],
        )
        for unit in range(1, DEVICES + 1)
    ]
    devices.append(
        SimDevice(
            id=DEAD_UNIT,
            simdata=[SimData(0, values=[0] * POINTS, datatype=DataType.REGISTERS)],
            action=hang,  # type: ignore[arg-type]
        )
    )

    async def run() -> None:
        server = ModbusTcpServer(devices, address=("127.0.0.1", port))
        await server.serve_forever()

    asyncio.run(run())


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


async def wait_listening(port: int) -> None:
    for _ in range(1000):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError("server did not start")


# -- the plugin's engine -------------------------------------------------------------------------


def bench_profile() -> Profile:
    return parse_profile(
        {
            "name": "bench",
            "defaults": {"interval_s": 0.000001, "heartbeat_s": 60},
            "points": {
                f"p{i}": {"address": i, "scale": 0.1, "deadband": 0.5} for i in range(POINTS)
            },
        },
        "bench",
    )


class Counting:
    """The plugin's sink minus the journal: decode + change detection, counting points."""

    def __init__(self) -> None:
        self.points = 0
        self.by_device: dict[int, int] = {}
        self.counting = False

    def sink(self, device: DeviceRuntime, block: Block, words: list[int]) -> None:
        outcome = device.tracker.update(block, words, time.monotonic())
        if self.counting:
            self.points += outcome.points
            self.by_device[device.unit] = self.by_device.get(device.unit, 0) + outcome.points


async def engine(
    lines_of: list[list[int]], port: int, warmup: float, seconds: float
) -> dict[str, Any]:
    profile = bench_profile()
    counter = Counting()
    lines, links, tasks = [], [], []
    timeout_s = DEFAULT_TIMEOUT_MS / 1000
    for n, units in enumerate(lines_of):
        link = ModbusLink(Endpoint("tcp", "127.0.0.1", port, timeout_s=timeout_s))
        devices = [
            DeviceRuntime(f"d{u}", f"b/d{u}", u, profile, DeviceTracker(profile)) for u in units
        ]
        line = Line(
            f"l{n}",
            link,
            devices,
            sink=counter.sink,
            on_state=lambda d, on, why: None,
            monotonic=time.monotonic,
            sleep=asyncio.sleep,
            probe_interval_s=DEFAULT_PROBE_INTERVAL_S,
        )
        lines.append(line)
        links.append(link)
    for line in lines:
        tasks.append(asyncio.create_task(line.run()))
    await asyncio.sleep(warmup)
    counter.counting = True
    requests_before = sum(line.counters["requests"] for line in lines)
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    counter.counting = False
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    requests = sum(line.counters["requests"] for line in lines) - requests_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for link in links:
        link.close()
    errors = sum(
        v for line in lines for k, v in line.counters.items() if k not in ("requests", "connects")
    )
    return {
        "points_per_s": round(counter.points / elapsed),
        "line_points_per_s": [
            round(sum(counter.by_device.get(u, 0) for u in units) / elapsed) for units in lines_of
        ],
        "requests_per_s": round(requests / elapsed),
        "cpu_us_per_point": round(cpu_s / max(counter.points, 1) * 1e6, 2),
        "requests_per_cycle": lines[0].devices[0].requests_per_cycle,
        "error_counts": errors,
    }


# -- the naive loop ------------------------------------------------------------------------------


async def naive(port: int, warmup: float, seconds: float) -> dict[str, Any]:
    from pymodbus.client import AsyncModbusTcpClient

    state = {"points": 0, "counting": False, "errors": 0}

    async def device(unit: int) -> None:
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
        await client.connect()
        me = asyncio.current_task()
        try:
            while True:
                if me is not None and me.cancelling():
                    raise asyncio.CancelledError  # pymodbus' wait_for can swallow a cancel
                for address in range(POINTS):
                    try:
                        r = await client.read_holding_registers(address, count=1, device_id=unit)
                    except Exception:
                        state["errors"] += 1
                        continue
                    if r.isError():
                        state["errors"] += 1
                        continue
                    _value = r.registers[0] * 0.1
                    if state["counting"]:
                        state["points"] += 1
        finally:
            client.close()

    tasks = [asyncio.create_task(device(u)) for u in range(1, DEVICES + 1)]
    await asyncio.sleep(warmup)
    state["counting"] = True
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    state["counting"] = False
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "points_per_s": round(state["points"] / elapsed),
        "cpu_us_per_point": round(cpu_s / max(state["points"], 1) * 1e6, 2),
        "requests_per_cycle": POINTS,
        "error_counts": state["errors"],
    }


async def run(quick: bool) -> dict[str, Any]:
    proc, port = start_server()
    try:
        await wait_listening(port)
        seconds = 5.0 if quick else 15.0
        shared_s = 10.0 if quick else 30.0
        units = list(range(1, DEVICES + 1))
        ours = await engine([[u] for u in units], port, 1.0, seconds)
        baseline = await naive(port, 1.0, seconds)
        # Both lines run at once, so load from anything else on the machine hits them alike.
        live_a = list(range(1, SHARED_LIVE + 1))
        live_b = list(range(SHARED_LIVE + 1, 2 * SHARED_LIVE + 1))
        shared = await engine([live_a, [DEAD_UNIT, *live_b]], port, 1.0, shared_s)
    finally:
        proc.terminate()
        proc.wait(10)
    alone_pps, dead_pps = shared["line_points_per_s"]
    cost = (alone_pps - dead_pps) / alone_pps * 100
    apc = DeviceRuntime(
        "apc",
        "b/apc",
        1,
        load_profile("apc_smart_ups"),
        DeviceTracker(load_profile("apc_smart_ups")),
    )
    apc.plan()
    return {
        "quick": quick,
        "devices": DEVICES,
        "points_per_device": POINTS,
        "plugin_points_per_s": ours["points_per_s"],
        "naive_points_per_s": baseline["points_per_s"],
        "speedup_vs_naive": round(ours["points_per_s"] / baseline["points_per_s"], 2),
        "plugin_cpu_us_per_point": ours["cpu_us_per_point"],
        "naive_cpu_us_per_point": baseline["cpu_us_per_point"],
        "requests_per_cycle": ours["requests_per_cycle"],
        "naive_requests_per_cycle": baseline["requests_per_cycle"],
        "apc_profile_requests_per_cycle": apc.requests_per_cycle,
        "apc_profile_points": len(apc.profile.points),
        "shared_line_live_points_per_s": alone_pps,
        "shared_line_with_dead_points_per_s": dead_pps,
        "dead_device_cost_pct": round(cost, 1),
        "dead_timeout_ms": DEFAULT_TIMEOUT_MS,
        "dead_probe_interval_s": DEFAULT_PROBE_INTERVAL_S,
        "errors": ours["error_counts"] + baseline["error_counts"],
        "dead_unit_timeouts": shared["error_counts"],
        "cpus": os.cpu_count(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    p.add_argument("--serve", nargs=1, metavar="PORT", help=argparse.SUPPRESS)
    add_event_loop_option(p)
    args = p.parse_args()
    if args.serve:
        serve(int(args.serve[0]))
        return
    result = event_loop.run(run(args.quick), args.event_loop)
    emit({**result, "event_loop": event_loop.resolve(args.event_loop)})


if __name__ == "__main__":
    main()
