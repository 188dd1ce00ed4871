"""Helpers shared by the bench scripts: percentiles, RSS, file-system facts, the JSON last line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


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


def emit(result: dict[str, Any]) -> None:
    """Print the result as the script's last line."""
    print(json.dumps(result, sort_keys=True), flush=True)
