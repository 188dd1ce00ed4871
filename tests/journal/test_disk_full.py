"""A full disk: appends fail loudly, nothing false is acknowledged, journal.fault afterwards."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.journal import Filter, Journal, JournalWriteError, verify_journal
from tests.journal.helpers import ev


async def _fill_until_failure(j: Journal, limit: int = 200_000) -> tuple[list[int], int]:
    """Append big events until writes fail; returns the acked seqs and the failure count."""
    acked: list[int] = []
    failures = 0
    blob = "x" * 4000
    for i in range(limit):
        results = await asyncio.gather(
            *(j.append(ev(i, text=None, data={"n": i, "blob": blob})) for _ in range(4)),
            return_exceptions=True,
        )
        for r in results:
            if isinstance(r, JournalWriteError):
                failures += 1
            elif isinstance(r, BaseException):
                raise r
            else:
                acked.append(r)
        if failures:
            return acked, failures
    raise AssertionError("the disk never filled")


async def _check_recovery(j: Journal, data_dir: Path, acked: list[int]) -> None:
    assert j.fault is not None and "full" in j.fault.error
    seq = await j.append(ev(-1))  # writing works again
    assert j.fault is None
    faults = j.reader.query(Filter.build(kinds=["journal.fault"]))
    assert [r.phase for r in faults] == ["alarm", "restore"]
    assert faults[0].event.data["failed_records"] >= 1
    assert seq == faults[-1].seq + 1
    stored = {r.seq for r in j.reader.query(Filter.everything(), limit=10**6)}
    assert set(acked) <= stored


async def test_full_tmpfs_gives_errors_not_lies(small_tmpfs: Path | None, tmp_path: Path) -> None:
    if small_tmpfs is None:  # not root: the same path with the OS error injected
        await _injected_disk_full(tmp_path / "data")
        return
    data_dir = small_tmpfs / "data"
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * 1024 * 1024)
    async with await Journal.open(data_dir) as j:
        acked, failures = await _fill_until_failure(j)
        assert failures >= 1 and acked
        filler.unlink()  # the operator frees space
        await _check_recovery(j, data_dir, acked)
    assert verify_journal(data_dir).ok


class _FullDisk:
    """Wraps the writer's connection and fails inserts with SQLite's disk-full error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.full = False

    def execute(self, sql: str, *args: Any) -> Any:
        if self.full and sql.startswith("INSERT INTO records"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def _injected_disk_full(
    data_dir: Path, meanwhile: Callable[[Journal, list[int]], Awaitable[None]] | None = None
) -> None:
    """Appends, one that fails on a "full disk", then recovery; ``meanwhile`` runs once the
    disk has room again, before the next append."""
    async with await Journal.open(data_dir) as j:
        wrapper = _FullDisk(j._writer._conn)
        j._writer._conn = wrapper  # type: ignore[assignment]
        acked = [await j.append(ev(i)) for i in range(5)]
        wrapper.full = True
        try:
            await j.append(ev(5))
        except JournalWriteError as exc:
            assert "NOT committed" in str(exc)
        else:
            raise AssertionError("append reported committed on a full disk")
        wrapper.full = False
        if meanwhile is not None:
            await meanwhile(j, acked)
        await _check_recovery(j, data_dir, acked)
    assert verify_journal(data_dir).ok


async def test_injected_write_error_gives_errors_not_lies(tmp_path: Path) -> None:
    await _injected_disk_full(tmp_path / "data")


def test_small_tmpfs_is_used_when_root(small_tmpfs: Path | None) -> None:
    if os.geteuid() == 0:
        assert small_tmpfs is not None, "running as root, the tmpfs mount should work"


async def test_the_outage_is_journaled_with_the_next_record_not_by_bookkeeping(
    tmp_path: Path,
) -> None:
    """Writing works again, but nothing new is appended: saving a consumer's position (the
    writer's bookkeeping) must not journal the outage on its own; the next record does."""

    async def save_a_position(j: Journal, acked: list[int]) -> None:
        j.commit_cursor("follower", acked[-1])
        await asyncio.sleep(0.3)  # well past the quiet time and the bookkeeping delay
        assert j.reader.query(Filter.build(kinds=["journal.fault"])) == []

    await _injected_disk_full(tmp_path / "data", save_a_position)
