"""Helpers shared by the bench scripts: percentiles, RSS, file-system facts, the JSON last line."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, get_args

from gateway.event_loop import EventLoopChoice


def add_event_loop_option(parser: argparse.ArgumentParser) -> None:
    """``--event-loop``: the gateway's loop in this run (default: as ``anfang run`` picks)."""
    parser.add_argument(
        "--event-loop",
        choices=get_args(EventLoopChoice),
        default="auto",
        help="the gateway's event loop (default: auto, as the gateway)",
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def filesystem_of(path: Path) -> str:
    """The type of the file system holding ``path`` (longest matching mount point)."""
    path = path.resolve()
    best, best_type = "", "unknown"
    with open("/proc/mounts") as fh:
        for line in fh:
            parts = line.split()
            mount, fstype = parts[1], parts[2]
            if (str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")) and len(
                mount
            ) > len(best):
                best, best_type = mount, fstype
    return best_type


def fsync_latencies(directory: Path, n: int, size: int = 4096) -> list[float]:
    """Seconds per fsync of a small append, measured on ``directory``'s disk."""
    probe = directory / "fsync-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    out = []
    try:
        for _ in range(n):
            os.write(fd, b"\0" * size)
            t = time.perf_counter()
            os.fsync(fd)
            out.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        probe.unlink()
    return out


def python_loop_ms() -> float:
    """The time of a fixed pure-Python loop (median of three), in ms: how fast this machine's
    CPU is right now. On a shared virtual machine it moves by tens of percent from hour to
    hour, and every latency figure moves with it."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        times.append(time.perf_counter() - started)
    return round(sorted(times)[1] * 1000, 1)


def _cpu_ticks() -> list[int] | None:
    """The machine's CPU time by state since boot (``/proc/stat``), None where there is none."""
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None


_TICKS_AT_START = _cpu_ticks()


def host_steal_pct() -> float | None:
    """The share of CPU time the hypervisor gave to other guests while the bench ran: the
    host's neighbours at work, beside :func:`python_loop_ms` (the host's speed). Tails grow
    with either (two linkage runs minutes apart: p99 27 ms at 3.3 % steal, 6.7 ms at 0.4 %),
    though most slow runs here show little steal and a slow loop instead."""
    now = _cpu_ticks()
    if now is None or _TICKS_AT_START is None:
        return None
    spent = [b - a for a, b in zip(_TICKS_AT_START, now, strict=True)]
    total = sum(spent)
    return round(100 * spent[7] / total, 2) if total else None


def emit(result: dict[str, Any]) -> None:
    """Print the result as the script's last line, with :func:`python_loop_ms` (lower is
    faster) and :func:`host_steal_pct`: figures of runs whose loop times or steal differ much
    are not comparable."""
    extra = {"python_loop_ms": python_loop_ms(), "host_steal_pct": host_steal_pct()}
    print(json.dumps({**result, **extra}, sort_keys=True), flush=True)
