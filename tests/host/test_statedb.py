"""The state DB's durable barrier: writes awaited with ``durable()`` are committed at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gateway.registry.statedb import StateDB, StateStore


def committed(path: Path, ns: str, key: str) -> str | None:
    """What another connection (a process started after a crash) would read."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM kv WHERE ns = ? AND key = ?", (ns, key)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


async def test_durable_commits_what_was_set_before_the_lazy_flush(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = StateDB(path)
    try:
        store = StateStore(db, "plugin:fwd")
        store.set("rx:arc", {"next_seq": 42})
        assert committed(path, "plugin:fwd", "rx:arc") is None  # only pending so far
        await store.durable()
        assert committed(path, "plugin:fwd", "rx:arc") == '{"next_seq":42}'
        await store.durable()  # nothing pending: returns at once
    finally:
        db.close()


async def test_callers_in_the_same_turn_share_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = StateDB(path)
    flushes = 0
    original = db.flush

    def counting_flush() -> None:
        nonlocal flushes
        flushes += 1
        original()

    db.flush = counting_flush  # type: ignore[method-assign]
    try:
        store = StateStore(db, "ns")

        async def writer(i: int) -> None:
            store.set(f"k{i}", i)
            await store.durable()

        await asyncio.gather(*(writer(i) for i in range(8)))
        assert flushes == 1
        assert [committed(path, "ns", f"k{i}") for i in range(8)] == [str(i) for i in range(8)]
    finally:
        db.flush = original  # type: ignore[method-assign]
        db.close()


async def test_a_large_scheduled_flush_is_spread_over_turns_in_order(tmp_path: Path) -> None:
    """A burst of writes (the incident tracker's periodic save) goes to disk a bounded
    transaction per turn of the loop, oldest first, so nothing waits behind one long write and
    whatever was written last (a position) is never on disk before what came before it."""
    path = tmp_path / "state.sqlite3"
    db = StateDB(path)
    db.FLUSH_AFTER_S = 0.0
    db.FLUSH_MAX_BYTES = 10_000
    try:
        value = "x" * 1_000  # about 1 KB a row once encoded: ten rows a transaction
        for i in range(50):
            db.put("incidents", f"i{i:02d}", value)
        db.put("position", "seq", 50)
        seen: list[int] = []
        for _ in range(20):
            await asyncio.sleep(0)
            on_disk = sum(committed(path, "incidents", f"i{i:02d}") is not None for i in range(50))
            if committed(path, "position", "seq") is not None:
                assert on_disk == 50, "the position reached the disk before the rows it covers"
            seen.append(on_disk)
        assert committed(path, "position", "seq") == "50"
        steps = sorted(set(seen))
        assert steps[0] < 50 and len(steps) >= 4, seen  # several turns, not one
        assert all(b - a <= 10 for a, b in zip([0, *steps], steps, strict=False)), seen
        assert db.get("incidents", "i00") == value  # readable all along, pending or not
    finally:
        db.close()


async def test_a_failed_bounded_flush_keeps_its_writes_for_the_next(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = StateDB(path)
    db.FLUSH_AFTER_S = 0.0
    db.FLUSH_MAX_BYTES = 10
    blocker = sqlite3.connect(path)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        db._conn.execute("PRAGMA busy_timeout = 0")
        loop = asyncio.get_running_loop()
        errors: list[object] = []
        loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx.get("exception")))
        db.put("ns", "a", 1)
        db.put("ns", "b", 2)
        await asyncio.sleep(0.01)
        assert errors and isinstance(errors[0], sqlite3.OperationalError)
        assert committed(path, "ns", "a") is None
        assert db.get("ns", "a") == 1 and db.get("ns", "b") == 2  # still pending, not lost
        blocker.rollback()
        await asyncio.sleep(db.FLUSH_AFTER_S + 0.3)
        assert (committed(path, "ns", "a"), committed(path, "ns", "b")) == ("1", "2")
    finally:
        asyncio.get_running_loop().set_exception_handler(None)
        blocker.close()
        db.close()
