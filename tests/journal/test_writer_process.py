"""The journal writer in a process of its own (writer="process", the gateway's default).

The writer thread's own behaviour (group commit, faults, bookkeeping) is tested on the thread;
these tests cover what the process adds: the pipe both ways, jobs that must pickle, and what
happens when either end goes away.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from gateway.journal import (
    Filter,
    Journal,
    JournalClosedError,
    JournalWriteError,
    RetentionPolicy,
)
from gateway.journal.verify import verify_journal
from gateway.journal.writer_proxy import ProcessWriter
from tests.journal.helpers import ev, raw_db


def synchronous_setting(conn: sqlite3.Connection) -> int:
    """A writer job (module-level: it is pickled to the writer process)."""
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def writer_of(journal: Journal) -> ProcessWriter:
    writer = journal._writer
    assert isinstance(writer, ProcessWriter)
    return writer


async def test_records_are_chained_durable_and_delivered_with_their_objects(
    data_dir: Path,
) -> None:
    async with await Journal.open(data_dir, writer="process") as j:
        consumer = j.subscribe(after=0)
        events = [ev(i) for i in range(300)]
        seqs = await asyncio.gather(*(j.append(e) for e in events))
        assert sorted(seqs) == list(range(1, 301))
        got = []
        while len(got) < 300:
            got.extend(await consumer.next_batch(timeout=5))
        # the consumer is handed the very objects that were appended, not copies read back
        assert [r.content for r in got] == events
        assert all(r.content is e for r, e in zip(got, events, strict=True))
        assert j.head().seq == 300 and j.stats.records == 300
    report = verify_journal(data_dir)
    assert report.ok, report
    rows = raw_db(data_dir).execute("SELECT count(*) FROM records").fetchone()[0]
    assert rows == 300


async def test_cursor_positions_are_saved_by_the_writer_process(data_dir: Path) -> None:
    async with await Journal.open(data_dir, writer="process") as j:
        for i in range(5):
            await j.append(ev(i))
        consumer = j.subscribe(cursor="engine")
        batch = await consumer.next_batch(timeout=5)
        consumer.commit(batch[2].seq)
        await j.flush()
        assert j.reader.cursor("engine") == 3
    async with await Journal.open(data_dir, writer="process") as j:
        again = j.subscribe(cursor="engine")
        assert [r.seq for r in await again.next_batch(timeout=5)] == [4, 5]


async def test_jobs_run_on_the_writers_connection_and_must_pickle(data_dir: Path) -> None:
    async with await Journal.open(data_dir, writer="process") as j:
        assert await j.run_on_writer(synchronous_setting) == 2  # FULL
        with pytest.raises(TypeError, match="module-level function"):
            await j.run_on_writer(lambda conn: None)
        # a job that fails is reported to its caller; the writer goes on
        with pytest.raises(sqlite3.OperationalError):
            await j.run_on_writer(raw_sql_failure)
        assert await j.append(ev()) == 1


def raw_sql_failure(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT * FROM no_such_table")


async def test_prune_reports_what_the_writer_process_tombstoned(data_dir: Path) -> None:
    policy = RetentionPolicy(default_days=1)
    async with await Journal.open(data_dir, writer="process", retention=policy) as j:
        for i in range(20):
            await j.append(ev(i))
        later = j.reader.get(20).ts_us + 3 * 86_400_000_000  # type: ignore[union-attr]
        report = await j.prune(now_us=later)
        assert report.pruned == 20 and report.by_kind == {"intrusion": 20}
        assert j.reader.get(5).pruned  # type: ignore[union-attr]


async def test_a_killed_writer_process_fails_what_waits_and_refuses_more(data_dir: Path) -> None:
    j = await Journal.open(data_dir, writer="process")
    try:
        assert await j.append(ev(0)) == 1
        writer = writer_of(j)
        pid = writer._process.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for _ in range(500):
            if writer.dead is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(writer.dead, JournalClosedError)
        with pytest.raises(JournalClosedError, match="ended unexpectedly"):
            await j.append(ev(1))
        with pytest.raises(JournalClosedError):
            await j.flush()
    finally:
        await asyncio.wait_for(j.close(), 10)
    assert raw_db(data_dir).execute("SELECT max(seq) FROM records").fetchone()[0] == 1


async def test_records_in_flight_when_the_process_dies_are_failed_not_lost_silently(
    data_dir: Path,
) -> None:
    j = await Journal.open(data_dir, writer="process")
    try:
        writer = writer_of(j)
        pid = writer._process.pid
        assert pid is not None
        appends = [asyncio.ensure_future(j.append(ev(i))) for i in range(200)]
        os.kill(pid, signal.SIGKILL)
        outcomes = await asyncio.wait_for(asyncio.gather(*appends, return_exceptions=True), 10)
    finally:
        await asyncio.wait_for(j.close(), 10)
    committed = {o for o in outcomes if isinstance(o, int)}
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(committed) + len(failed) == 200
    assert all(isinstance(f, JournalWriteError | JournalClosedError) for f in failed)
    on_disk = raw_db(data_dir).execute("SELECT count(*) FROM records").fetchone()[0]
    assert on_disk >= len(committed)  # every "committed" answer is on disk


async def test_the_writer_ignores_ctrl_c_so_the_gateway_can_journal_its_own_stop(
    data_dir: Path,
) -> None:
    async with await Journal.open(data_dir, writer="process") as j:
        pid = writer_of(j)._process.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(0.2)
        assert writer_of(j).alive
        assert await j.append(ev()) == 1


async def test_when_the_gateway_goes_away_the_writer_commits_what_it_received(
    data_dir: Path,
) -> None:
    j = await Journal.open(data_dir, writer="process")
    writer = writer_of(j)
    appends = [asyncio.ensure_future(j.append(ev(i))) for i in range(50)]
    await asyncio.sleep(0)  # the appends are queued
    await asyncio.sleep(0)  # and sent
    writer._to_child.close()  # as if the gateway's process had died here
    await asyncio.to_thread(writer._process.join, 10)
    assert writer._process.exitcode == 0
    rows = raw_db(data_dir).execute("SELECT count(*) FROM records").fetchone()[0]
    assert rows == 50
    for task in appends:
        task.cancel()
    await asyncio.gather(*appends, return_exceptions=True)
    await asyncio.wait_for(j.close(), 10)
    assert verify_journal(data_dir).ok


async def test_a_gateway_uses_the_process_writer_unless_configured_otherwise(
    data_dir: Path,
) -> None:
    from gateway.config.schema import GatewayConfig

    assert GatewayConfig.model_validate({"site": {"id": "hq"}}).journal.writer == "process"
    records = Filter.everything()
    async with await Journal.open(data_dir, writer="thread") as j:
        assert not isinstance(j._writer, ProcessWriter)
        await j.append(ev())
        assert len(j.reader.query(records)) == 1


class _Picky(Exception):
    """Pickles, but will not unpickle: its __init__ wants two arguments."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def raise_picky(conn: sqlite3.Connection) -> None:
    raise _Picky("a", "b")


async def test_jobs_from_main_and_unreadable_outcomes_fail_the_job_not_the_journal(
    data_dir: Path,
) -> None:
    def in_main(conn: sqlite3.Connection) -> None:
        return None

    in_main.__module__ = "__main__"
    in_main.__qualname__ = "in_main"
    async with await Journal.open(data_dir, writer="process") as j:
        with pytest.raises(TypeError, match="__main__"):
            await j.run_on_writer(in_main)
        with pytest.raises(JournalWriteError, match="unreadable"):
            await j.run_on_writer(raise_picky)
        assert await j.append(ev()) == 1


async def test_a_dead_forkserver_does_not_make_a_live_writer_look_dead(data_dir: Path) -> None:
    from multiprocessing import forkserver

    j = await Journal.open(data_dir, writer="process")
    writer = writer_of(j)
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    os.kill(server, signal.SIGTERM)  # as a service manager's stop of the process group does
    await asyncio.sleep(0.2)
    assert writer.alive
    assert await j.append(ev()) == 1
    await asyncio.wait_for(j.close(), 10)
    assert not writer.alive and writer.dead is None
    # a new journal starts a new forkserver
    async with await Journal.open(data_dir, writer="process") as again:
        assert await again.append(ev()) == 2


async def test_a_new_journal_waits_for_the_writer_of_a_gateway_that_died(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.journal import journal as journal_module
    from gateway.journal.errors import JournalLockedError
    from gateway.journal.store import hold_writer_lock

    data_dir.mkdir(parents=True, exist_ok=True)
    old_writer = hold_writer_lock(data_dir)  # as a writer process still committing
    monkeypatch.setattr(journal_module, "OLD_WRITER_WAIT_S", 0.3)
    with pytest.raises(JournalLockedError, match="earlier run"):
        await Journal.open(data_dir, writer="process")
    monkeypatch.setattr(journal_module, "OLD_WRITER_WAIT_S", 10.0)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, os.close, old_writer)  # it finishes
    async with await Journal.open(data_dir, writer="process") as j:
        assert await j.append(ev()) == 1


EXITS_WITHOUT_CLOSING = """
import asyncio, sys
from pathlib import Path
from gateway.journal import Journal
from tests.journal.helpers import ev

async def main():
    j = await Journal.open(Path(sys.argv[1]), writer="process")
    for i in range(20000):
        j.submit(ev(i))
    await asyncio.sleep(0)
    await asyncio.sleep(0)

asyncio.run(main())
"""


async def test_a_process_that_exits_without_closing_its_journal_still_exits(
    data_dir: Path,
) -> None:
    """Its writer's answers must not fill a pipe nobody reads (it would never end)."""
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        EXITS_WITHOUT_CLOSING,
        str(data_dir),
        cwd=Path(__file__).resolve().parents[2],
    )
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    assert verify_journal(data_dir).ok
