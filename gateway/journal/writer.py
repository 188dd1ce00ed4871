"""Group commit: one thread writes everything queued in one transaction with one fsync.

Publishers enqueue entries and wait; the writer takes the whole queue, assigns seqs, extends the
hash chain, commits (WAL + ``synchronous=FULL``: the commit is durable when it returns), appends
the new head to the anchor file and only then reports the batch committed. A failed transaction
is rolled back and every entry in it is reported failed: nobody is ever told "committed" for a
record that is not on disk. When writing works again after a failure, the outage itself is
journaled as a ``journal.fault`` alarm and restore in the first successful transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from gateway.journal import chain
from gateway.journal.errors import JournalClosedError, JournalWriteError
from gateway.journal.records import Entry, JournalRecord, prepare
from gateway.journal.store import INSERT_RECORD, UPSERT_CURSOR
from gateway.model.event import Event
from gateway.model.kinds import Phase

log = structlog.get_logger("anfang.journal")

MAX_BATCH = 4096
"""Entries per transaction at most: bounds commit latency under a burst (SQLite inserts ~1 µs
a row, so a full batch is a few ms) while amortising the fsync over thousands of records."""

CommitCallback = Callable[[list[JournalRecord], int, list[Any]], None]
FailCallback = Callable[[list[Any], BaseException], None]


@dataclass
class FaultState:
    """What failed while writing did not work; turned into journal.fault once it works again."""

    first_at: datetime
    last_at: datetime
    error: str
    failed_records: int = 0
    failed_transactions: int = 0


@dataclass
class WriterStats:
    transactions: int = 0
    records: int = 0
    failed_transactions: int = 0
    last_commit_s: float = 0.0
    commit_seconds: list[float] = field(default_factory=list)  # recent, bounded


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    done: Callable[[Any, BaseException | None], None]


class GroupCommitWriter:
    """The journal's only writer; thread-safe ``submit``; callbacks run on the writer thread."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        head: chain.ChainHead,
        anchor: chain.AnchorWriter,
        on_commit: CommitCallback,
        on_fail: FailCallback,
        source_for_faults: str = "gateway/journal",
        max_batch: int = MAX_BATCH,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self._conn = conn
        self.head = head
        self._anchor = anchor
        self._on_commit = on_commit
        self._on_fail = on_fail
        self._fault_source = source_for_faults
        self._max_batch = max_batch
        self._on_bytes = on_bytes
        self._cond = threading.Condition()
        self._appends: list[tuple[Entry, Any]] = []
        self._cursors: dict[str, int] = {}
        self._jobs: list[_Job] = []
        self._stopping = False
        self.fault: FaultState | None = None
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="anfang-journal-writer", daemon=True)

    # -- producer side (any thread) --------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, entry: Entry, token: Any) -> None:
        with self._cond:
            if self._stopping:
                raise JournalClosedError("journal is closed; the record was not appended")
            self._appends.append((entry, token))
            self._cond.notify()

    def submit_cursor(self, name: str, seq: int) -> None:
        """Record a consumer's position; written with the next transaction (coalesced)."""
        with self._cond:
            if self._stopping:
                return
            if seq > self._cursors.get(name, -1):
                self._cursors[name] = seq
            self._cond.notify()

    def submit_job(
        self,
        fn: Callable[[sqlite3.Connection], Any],
        done: Callable[[Any, BaseException | None], None],
    ) -> None:
        """Run ``fn(conn)`` on the writer thread between transactions (prune, maintenance)."""
        with self._cond:
            if self._stopping:
                raise JournalClosedError("journal is closed")
            self._jobs.append(_Job(fn, done))
            self._cond.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish everything queued, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._appends or self._cursors or self._jobs or self._stopping):
                    self._cond.wait()
                appends = self._appends[: self._max_batch]
                del self._appends[: self._max_batch]
                cursors, self._cursors = self._cursors, {}
                jobs, self._jobs = self._jobs, []
                done = self._stopping and not self._appends
            if appends or cursors:
                self._commit(appends, cursors)
            for job in jobs:
                self._run_job(job)
            if done and not (self._appends or self._cursors or self._jobs):
                return

    def _run_job(self, job: _Job) -> None:
        try:
            result = job.fn(self._conn)
        except BaseException as exc:  # reported to the caller, never kills the writer
            job.done(None, exc)
        else:
            job.done(result, None)

    def _commit(self, appends: list[tuple[Entry, Any]], cursors: dict[str, int]) -> None:
        fault_entries = self._fault_entries() if self.fault is not None else []
        entries = fault_entries + [entry for entry, _ in appends]
        tokens = [token for _, token in appends]
        seq, prev = self.head.seq, self.head.hash
        records: list[JournalRecord] = []
        for e in entries:
            seq += 1
            record = JournalRecord(
                seq,
                e.rtype,
                e.id,
                e.kind,
                e.source,
                e.phase,
                e.priority,
                e.ts_us,
                e.schema_version,
                e.payload,
                chain.content_hash(e.payload),
                prev,
                b"",
                e.obj,
            )
            record.hash = prev = chain.link(prev, record.digest())
            records.append(record)
        rows = [r.as_row() for r in records]
        started = time.perf_counter()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            if rows:
                self._conn.executemany(INSERT_RECORD, rows)
            if cursors:
                now_us = time.time_ns() // 1000
                self._conn.executemany(
                    UPSERT_CURSOR, [(name, s, now_us) for name, s in cursors.items()]
                )
            self._conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            self._note_failure(exc, len(appends))
            with self._cond:  # keep positions for the next try; newer ones win
                for name, s in cursors.items():
                    if s > self._cursors.get(name, -1):
                        self._cursors[name] = s
            if tokens:
                self._on_fail(
                    tokens,
                    JournalWriteError(
                        f"journal write failed, {len(tokens)} record(s) NOT committed: {exc}"
                    ),
                )
            return
        elapsed = time.perf_counter() - started
        self.stats.transactions += 1
        self.stats.records += len(rows)
        self.stats.last_commit_s = elapsed
        if len(self.stats.commit_seconds) >= 1024:
            del self.stats.commit_seconds[:512]
        self.stats.commit_seconds.append(elapsed)
        if self._on_bytes is not None:
            self._on_bytes(sum(len(r[9]) for r in rows) + 200 * len(rows))
        if rows:
            self.head = chain.ChainHead(seq, prev)
            if fault_entries:
                log.warning("journal writable again; outage journaled", fault=str(self.fault))
                self.fault = None
            try:
                self._anchor.write(self.head)
            except OSError as exc:  # records are committed; the anchor only lags
                log.error("anchor write failed", error=str(exc))
            self._on_commit(records, len(fault_entries), tokens)

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")

    def _note_failure(self, exc: BaseException, n_records: int) -> None:
        now = datetime.now(UTC)
        self.stats.failed_transactions += 1
        if self.fault is None:
            self.fault = FaultState(now, now, str(exc))
            log.error("journal write failed", error=str(exc), records=n_records)
        self.fault.last_at = now
        self.fault.error = str(exc)
        self.fault.failed_records += n_records
        self.fault.failed_transactions += 1

    def _fault_entries(self) -> list[Entry]:
        assert self.fault is not None
        f = self.fault
        data = {
            "error": f.error,
            "failed_records": f.failed_records,
            "failed_transactions": f.failed_transactions,
            "first_failure_at": f.first_at.isoformat(),
            "last_failure_at": f.last_at.isoformat(),
        }
        alarm = Event(
            kind="journal.fault",
            phase=Phase.ALARM,
            priority=1,
            source=self._fault_source,
            occurred_at=f.first_at,
            text=f"journal writes failed: {f.error}",
            data=data,
        )
        restore = Event(
            kind="journal.fault",
            phase=Phase.RESTORE,
            priority=1,
            source=self._fault_source,
            text="journal writable again",
            data=data,
        )
        return [prepare(alarm), prepare(restore)]
