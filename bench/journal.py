"""Journal bench: group-commit throughput, consumer latency and memory, with FULL sync.

Runs through the product's own append API with its default settings, in a scratch directory on
the file system of the default data directory (never tmpfs, where fsync costs nothing). Baselines
measured in the same run: the same load with one transaction per record (group commit off) and
the disk's own fsync latency.

    python bench/journal.py [--quick] [--soak N] [--data-root DIR]

The last line is one JSON object: committed_per_s (100 publishers), group_commit_ratio, p99_ms
(publish→consumer at 1,000 records/s), fsync_p99_ms, synchronous, filesystem.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, filesystem_of, fsync_latencies, percentile, rss_bytes
from gateway.journal import Filter, Journal
from gateway.model import Event
from gateway.paths import default_data_dir

REFUSED_FILESYSTEMS = {"tmpfs", "ramfs"}


def make_event(n: int) -> Event:
    return Event(
        kind="intrusion",
        phase="alarm",
        priority=2,
        source=f"hq/panel-{n % 50}/zone-{n % 8}",
        code="CID:E130",
        data={"n": n},
    )


async def throughput(
    root: Path,
    publishers: int,
    seconds: float,
    *,
    max_batch: int | None = None,
    build: bool = False,
) -> tuple[float, float]:
    """Committed records/s with ``publishers`` concurrent appenders; also the mean batch size."""
    d = Path(tempfile.mkdtemp(dir=root))
    kw = {} if max_batch is None else {"max_batch": max_batch}
    journal = await Journal.open(d, **kw)  # type: ignore[arg-type]
    pool = [] if build else [make_event(i) for i in range(min(400_000, int(30_000 * seconds)))]
    count = 0
    deadline = time.perf_counter() + seconds

    async def publisher(p: int) -> None:
        nonlocal count
        i = p
        while time.perf_counter() < deadline:
            event = make_event(i) if build else pool[i % len(pool)]
            await journal.append(event)
            count += 1
            i += publishers

    start = time.perf_counter()
    await asyncio.gather(*(publisher(p) for p in range(publishers)))
    elapsed = time.perf_counter() - start
    stats = journal.stats
    batch = stats.records / max(1, stats.transactions)
    await journal.close()
    shutil.rmtree(d)
    return count / elapsed, batch


async def latency(root: Path, rate: int, seconds: float) -> list[float]:
    """Seconds from calling append to a live consumer holding the record, at a paced rate."""
    d = Path(tempfile.mkdtemp(dir=root))
    journal = await Journal.open(d)
    consumer = journal.subscribe(Filter(), cursor="bench")
    sent: dict[str, float] = {}
    lat: list[float] = []
    total = int(rate * seconds)

    async def consume() -> None:
        while len(lat) < total:
            for record in await consumer.next_batch():
                lat.append(time.perf_counter() - sent.pop(record.id))

    async def produce() -> None:
        start = time.perf_counter()
        pending = set()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            event = make_event(i)
            sent[event.id] = time.perf_counter()
            task = asyncio.create_task(journal.append(event))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    reader = asyncio.create_task(consume())
    await produce()
    await asyncio.wait_for(reader, 30)
    consumer.close()
    await journal.close()
    shutil.rmtree(d)
    return lat


async def soak(root: Path, total: int) -> dict[str, object]:
    """Append ``total`` records with 100 publishers, sampling RSS every 100k."""
    d = Path(tempfile.mkdtemp(dir=root))
    journal = await Journal.open(d)
    samples: dict[int, int] = {}
    count = 0

    async def publisher(p: int) -> None:
        nonlocal count
        i = p
        while i < total:
            await journal.append(make_event(i))
            count += 1
            if count % 100_000 == 0:
                samples[count] = rss_bytes()
                print(f"soak {count} records rss {samples[count] / 2**20:.1f} MiB", flush=True)
            i += 100

    await asyncio.gather(*(publisher(p) for p in range(100)))
    await journal.close()
    shutil.rmtree(d)
    first = samples.get(200_000)
    last = samples[max(samples)] if samples else None
    growth = None if not first or not last else (last - first) / first * 100
    return {
        "soak_records": total,
        "rss_mib": {k: round(v / 2**20, 1) for k, v in samples.items()},
        "rss_growth_pct_200k_to_end": None if growth is None else round(growth, 2),
    }


async def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="short run, under 30 s")
    ap.add_argument(
        "--soak", type=int, default=0, metavar="N", help="also append N records, RSS every 100k"
    )
    ap.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="where scratch journals go (default: beside the default data directory)",
    )
    args = ap.parse_args()

    root_parent = args.data_root or default_data_dir().parent
    root_parent.mkdir(parents=True, exist_ok=True)
    fs = filesystem_of(root_parent)
    if fs in REFUSED_FILESYSTEMS:
        print(f"refusing to bench on {fs} ({root_parent}): fsync is free there", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="anfang-bench-", dir=root_parent))
    try:
        secs = 2.0 if args.quick else 6.0
        reps = 1 if args.quick else 3
        fs_lat = fsync_latencies(root, 200 if args.quick else 1000)
        result: dict[str, object] = {"filesystem": fs, "synchronous": "FULL", "quick": args.quick}
        per_pub: dict[str, float] = {}
        for pubs in (1, 10, 100):
            runs = [await throughput(root, pubs, secs) for _ in range(reps if pubs == 100 else 1)]
            rate = statistics.median(r[0] for r in runs)
            per_pub[str(pubs)] = round(rate)
            print(
                f"publishers={pubs}: {rate:,.0f} committed/s, mean batch "
                f"{statistics.median(r[1] for r in runs):.1f}",
                flush=True,
            )
        with_build, _ = await throughput(root, 100, secs, build=True)
        print(f"publishers=100, building each Event in the loop: {with_build:,.0f} committed/s")
        baseline, _ = await throughput(root, 100, secs, max_batch=1)
        print(f"publishers=100, one transaction per record: {baseline:,.0f} committed/s")
        lat = await latency(root, 1000, 3.0 if args.quick else 10.0)
        p50, p99 = percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3
        print(
            f"publish->consumer at 1,000/s: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(lat)} records)"
        )
        result.update(
            {
                "committed_per_s": per_pub["100"],
                "committed_per_s_by_publishers": per_pub,
                "committed_per_s_building_events": round(with_build),
                "one_tx_per_record_per_s": round(baseline),
                "group_commit_ratio": round(per_pub["100"] / baseline, 1),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "fsync_p50_ms": round(percentile(fs_lat, 50) * 1e3, 3),
                "fsync_p99_ms": round(percentile(fs_lat, 99) * 1e3, 3),
            }
        )
        if args.soak:
            result.update(await soak(root, args.soak))
        emit(result)
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
