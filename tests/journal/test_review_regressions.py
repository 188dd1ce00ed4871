"""Regressions for bugs a review of the journal found; each test failed before its fix."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.journal import Filter, Journal, JournalReader, RetentionPolicy, chain, verify_journal
from gateway.journal.writer import GroupCommitWriter
from tests.journal.helpers import ev


async def test_closing_a_consumer_during_a_database_read_does_not_crash(data_dir: Path) -> None:
    # Before: the connection was closed under the worker thread's query: a segfault.
    async with await Journal.open(data_dir, tail_size=16) as j:
        await j.append_many([ev(i) for i in range(20_000)])
        for _ in range(3):
            c = j.subscribe(Filter.build(kinds=["nomatch"]), after=0)  # far behind: DB path
            task = asyncio.create_task(c.next_batch())
            await asyncio.sleep(0.003)
            c.close()
            assert await task == []
        lagging = j.subscribe(Filter.build(kinds=["nomatch"]), after=0)
        pending = asyncio.create_task(lagging.next_batch())
        await asyncio.sleep(0.003)
    assert await pending == []  # the journal closed under it, cleanly


class _FailingConn:
    """Stands in for the writer's connection on a full disk (every write fails)."""

    def __init__(self) -> None:
        self.writes = 0
        self.in_transaction = False

    def execute(self, sql: str, *args: Any) -> None:
        if sql.startswith(("BEGIN", "INSERT")):
            self.writes += 1
            raise sqlite3.OperationalError("database or disk is full")

    def executemany(self, *args: Any) -> None:
        pass


def test_failing_writes_with_a_pending_cursor_do_not_busy_loop(tmp_path: Path) -> None:
    conn = _FailingConn()
    anchor = chain.AnchorWriter(tmp_path / "a.anchor")
    w = GroupCommitWriter(
        conn,
        chain.EMPTY_HEAD,
        anchor,  # type: ignore[arg-type]
        lambda *a: None,
        lambda *a: None,
    )
    w.start()
    w.submit_cursor("mqtt", 5)
    time.sleep(1.0)
    assert 2 <= conn.writes <= 10, f"{conn.writes} attempts in 1 s"  # before: ~6,000
    started = time.monotonic()
    w.stop(timeout=5)
    assert not w.alive and time.monotonic() - started < 2


def test_a_raising_completion_callback_does_not_kill_the_writer(tmp_path: Path) -> None:
    anchor = chain.AnchorWriter(tmp_path / "a.anchor")
    w = GroupCommitWriter(
        sqlite3.connect(":memory:", check_same_thread=False),
        chain.EMPTY_HEAD,
        anchor,
        lambda *a: None,
        lambda *a: None,
    )
    w.start()
    ran = threading.Event()

    def done(result: Any, exc: BaseException | None) -> None:
        ran.set()
        raise RuntimeError("Event loop is closed")

    w.submit_job(lambda c: 1, done)
    assert ran.wait(2)
    time.sleep(0.05)
    assert w.alive and w.dead is None
    w.stop()


async def test_flush_waits_for_every_earlier_append(data_dir: Path) -> None:
    async with await Journal.open(data_dir, max_batch=5) as j:
        tasks = [asyncio.create_task(j.append(ev(i))) for i in range(50)]
        await asyncio.sleep(0)  # all 50 queued
        await j.flush()
        assert j.head().seq == 50  # before: 5
        await asyncio.gather(*tasks)


async def test_prune_does_not_hold_up_appends(data_dir: Path) -> None:
    from gateway.journal import retention

    policy = RetentionPolicy(default_days=1)
    async with await Journal.open(data_dir, retention=policy) as j:
        await j.append_many([ev(i) for i in range(3 * retention.PRUNE_BATCH)])
        order: list[str] = []

        async def append_soon() -> None:
            await asyncio.sleep(0)
            await j.append(ev(-1))
            order.append("append")

        async def prune() -> None:
            report = await j.prune(now_us=time.time_ns() // 1000 + 2 * retention.DAY_US)
            order.append(f"prune {report.pruned}")

        await asyncio.gather(prune(), append_soon())
    assert order[0] == "append", order  # before: the append waited for the whole prune
    assert int(order[1].split()[1]) >= 3 * retention.PRUNE_BATCH
    assert verify_journal(data_dir).ok


async def test_new_cursor_starting_at_the_head_keeps_its_start_across_a_crash(
    data_dir: Path,
) -> None:
    async with await Journal.open(data_dir) as j:
        for i in range(3):
            await j.append(ev(i))
        j.subscribe(cursor="late", new_cursor_start="head")  # starts after seq 3
        for i in range(3, 6):
            await j.append(ev(i))
        # no commit: the consumer "crashes" here
    async with await Journal.open(data_dir) as j:
        batch = await j.subscribe(cursor="late").next_batch(timeout=1)
    assert [r.seq for r in batch] == [4, 5, 6]  # before: nothing (resumed at 6)


@pytest.mark.parametrize(
    ("kinds", "sources"),
    [(["trouble.[!a]*"], []), ([], ["br/door-[^2]"]), ([], ["br/door-[!2]"]), (["[tf]*"], [])],
)
async def test_character_classes_select_the_same_in_memory_and_sql(
    data_dir: Path, kinds: list[str], sources: list[str]
) -> None:
    flt = Filter.build(kinds=kinds, sources=sources)
    async with await Journal.open(data_dir) as j:
        for i, (kind, src) in enumerate(
            [
                ("trouble.battery_low", "br/door-1"),
                ("trouble.ac_loss", "br/door-2"),
                ("fire", "br/door-3"),
                ("intrusion", "hq/p"),
            ]
        ):
            await j.append(ev(i, kind=kind, source=src))
        everything = j.reader.query(Filter.everything())
        in_memory = [r.seq for r in everything if flt.matches(r)]
        assert [r.seq for r in j.reader.query(flt)] == in_memory
        assert [r.seq for r in j.reader.query(flt, limit=1)] == in_memory[:1]
        consumer = j.subscribe(flt, after=0)
        consumer._journal._tail = type(j._tail)(4)  # force the database path
        assert [r.seq for r in await consumer.next_batch(timeout=0.1)] == in_memory


def test_access_records_keep_180_days_whatever_the_default() -> None:
    assert RetentionPolicy(default_days=30).days_for("event", "access.granted") == 180
    assert RetentionPolicy(types={"event": 7}).days_for("event", "door.forced") == 180
    assert RetentionPolicy(default_days=30).days_for("event", "intrusion") == 30


async def test_torn_anchor_line_is_not_glued_to_the_next(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        for i in range(3):
            await j.append(ev(i))
    anchor = data_dir / "journal.sqlite3.anchor"
    with anchor.open("ab") as fh:
        fh.write(b"3")  # a crash mid-line
    async with await Journal.open(data_dir) as j:  # before: refused ("30 records removed")
        await j.append(ev(3))
    report = verify_journal(data_dir)
    assert report.ok, report.problems
    assert report.anchor is not None and report.anchor.seq == 4


async def test_next_batch_rejects_a_zero_limit(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        await j.append(ev())
        with pytest.raises(ValueError, match="at least 1"):
            await j.subscribe(after=0).next_batch(limit=0)


async def test_append_many_shares_one_transaction(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        before = j.stats.transactions
        await j.append_many([ev(i) for i in range(100)])
        assert j.stats.transactions - before == 1


def test_reader_query_is_complete_for_inexact_filters(tmp_path: Path) -> None:
    async def fill() -> None:
        async with await Journal.open(tmp_path) as j:
            await j.append_many([ev(i, source=f"br/door-{i % 3}") for i in range(30)])

    asyncio.run(fill())
    reader = JournalReader.open(tmp_path)
    try:
        got = reader.query(Filter.build(sources=["br/door-[!0]"]), limit=7)
        assert len(got) == 7 and all(not r.source.endswith("0") for r in got)
    finally:
        reader.close()
