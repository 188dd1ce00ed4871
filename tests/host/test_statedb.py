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
