"""The anchor line and consumers' positions while records keep arriving: written once the writer
is quiet, or once the bookkeeping delay has passed, never lost."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from gateway.journal import chain
from gateway.journal.records import JournalRecord, prepare
from gateway.journal.store import open_writer
from gateway.journal.writer import GroupCommitWriter
from tests.journal.helpers import ev


class _Chain:
    """A writer whose completion callback submits the next record while the writer is still
    busy, as publishers do under load: after each commit another record is waiting."""

    def __init__(
        self,
        tmp_path: Path,
        commits: int,
        delay_s: float,
        pause_s: float = 0.0,
        flush_at: int | None = None,
    ) -> None:
        self.db = tmp_path / "j.sqlite3"
        self.anchor_path = tmp_path / "j.anchor"
        self.commits = commits
        self.pause_s = pause_s
        self.seen: list[int] = []
        self.anchor_during: list[int] = []  # the anchor's newest seq, read inside each callback
        self.flush_at = flush_at
        self.flushed: list[Any] = []  # what a flush job saw of the follower's saved position
        self.done = threading.Event()
        self.writer = GroupCommitWriter(
            open_writer(self.db),
            chain.EMPTY_HEAD,
            chain.AnchorWriter(self.anchor_path),
            self._committed,
            lambda tokens, exc: None,
            bookkeeping_delay_s=delay_s,
        )

    def _committed(self, records: list[JournalRecord], offset: int, tokens: list[Any]) -> None:
        seq = records[-1].seq
        self.seen.append(seq)
        heads = chain.read_anchor(self.anchor_path)
        self.anchor_during.append(heads[-1].seq if heads else 0)
        self.writer.submit_cursor("follower", seq)
        if len(self.seen) < self.commits:
            time.sleep(self.pause_s)
            self.writer.submit(prepare(ev(seq)), None)
            if seq == self.flush_at:  # as Journal.flush(): a job after what is queued
                self.writer.submit_job(
                    lambda conn: conn.execute(
                        "SELECT seq FROM cursors WHERE name = 'follower'"
                    ).fetchone(),
                    lambda result, exc: self.flushed.append(exc or result),
                )
        else:
            self.done.set()

    def run(self) -> None:
        self.writer.start()
        self.writer.submit(prepare(ev(0)), None)
        assert self.done.wait(30)

    def saved_cursor(self) -> int | None:
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            row = conn.execute("SELECT seq FROM cursors WHERE name = 'follower'").fetchone()
        return None if row is None else int(row[0])


def test_while_records_wait_the_anchor_and_positions_wait_for_the_queue_to_drain(
    tmp_path: Path,
) -> None:
    c = _Chain(tmp_path, commits=8, delay_s=60.0)
    try:
        _check_waiting(c)
    finally:
        c.writer.stop()


def _check_waiting(c: _Chain) -> None:
    c.run()
    # While records kept coming the anchor was written once: with the second commit, the first
    # that found something to save and nothing saved yet. Never again until the queue drained.
    assert c.seen == list(range(1, 9))
    assert c.anchor_during == [0, 0] + [2] * 6
    deadline = time.monotonic() + 10
    while c.saved_cursor() != 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert c.saved_cursor() == 8  # the writer went quiet: the newest position is saved
    assert chain.read_anchor(c.anchor_path)[-1].seq == 8


def test_a_busy_writer_still_saves_once_the_delay_has_passed(tmp_path: Path) -> None:
    c = _Chain(tmp_path, commits=5, delay_s=0.05, pause_s=0.08)
    try:
        c.run()
        # Every commit after the first (which had nothing to save yet) came more than the
        # delay after the previous save: each one saved.
        assert c.anchor_during == [0, 0, 2, 3, 4]
    finally:
        c.writer.stop()
    assert c.saved_cursor() == 5


def test_positions_waiting_at_stop_are_saved(tmp_path: Path) -> None:
    c = _Chain(tmp_path, commits=6, delay_s=60.0)
    try:
        c.run()
    finally:
        c.writer.stop()
    assert c.saved_cursor() == 6
    assert chain.read_anchor(c.anchor_path)[-1].seq == 6


def test_a_flush_sees_the_positions_queued_before_it_even_while_records_wait(
    tmp_path: Path,
) -> None:
    c = _Chain(tmp_path, commits=8, delay_s=60.0, flush_at=3)
    try:
        c.run()
    finally:
        c.writer.stop()
    # The job was queued after position 3 (and the record after it): when it ran, position 3
    # was saved although more records were waiting (before: it had been handed back).
    assert len(c.flushed) == 1 and c.flushed[0] is not None
    assert c.flushed[0][0] >= 3


def test_failing_position_writes_back_off_and_raise_no_journal_fault(tmp_path: Path) -> None:
    c = _Chain(tmp_path, commits=40, delay_s=0.0, pause_s=0.025)
    with contextlib.closing(sqlite3.connect(c.db)) as conn:  # positions cannot be saved
        for when in ("INSERT", "UPDATE"):
            conn.execute(
                f"CREATE TRIGGER no_{when.lower()} BEFORE {when} ON cursors "
                "BEGIN SELECT RAISE(ABORT, 'positions cannot be saved'); END"
            )
        conn.commit()
    try:
        c.run()  # 40 commits, each with a new position, over about one second
    finally:
        c.writer.stop()
    assert c.seen == list(range(1, 41))  # every record written
    assert c.writer.fault is None
    failures = c.writer.stats.failed_cursor_writes
    assert 2 <= failures <= 15, f"{failures} tries in ~1 s: backing off, not once per commit"
    with contextlib.closing(sqlite3.connect(c.db)) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM records")]
    assert "journal.fault" not in kinds and len(kinds) == 40


def test_a_steady_stream_saves_positions_per_delay_not_per_commit(tmp_path: Path) -> None:
    """Records a millisecond apart, each commit followed by a new position: the queue is empty
    between most commits, yet positions are saved about once per delay, not after each commit
    (each save is a transaction with an fsync the next records would wait behind)."""
    writes: list[int] = []
    writer = GroupCommitWriter(
        open_writer(tmp_path / "j.sqlite3"),
        chain.EMPTY_HEAD,
        chain.AnchorWriter(tmp_path / "j.anchor"),
        lambda records, offset, tokens: writer.submit_cursor("follower", records[-1].seq),
        lambda tokens, exc: None,
        bookkeeping_delay_s=0.1,
        quiet_s=0.05,  # far above the gap between records, however slow the machine
    )
    original = writer._write_cursors

    def counting(cursors: dict[str, int]) -> None:
        writes.append(max(cursors.values()))
        original(cursors)

    writer._write_cursors = counting  # type: ignore[method-assign]
    writer.start()
    try:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 0.5:
            writer.submit(prepare(ev(n)), None)
            n += 1
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        during = len(writes)
        deadline = time.monotonic() + 10
        while not (writes and writes[-1] == n) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        writer.stop()
    assert writer.stats.transactions >= 40  # many commits …
    assert during <= elapsed / 0.1 + 2, writes  # … and positions saved once per delay
    assert writes[-1] == n  # the stream ended, the writer went quiet: the last one is saved
