"""Group commit: one thread writes everything queued in one transaction with one fsync.

Publishers enqueue entries and wait; the writer takes the whole queue, assigns seqs, extends the
hash chain, commits (WAL + ``synchronous=FULL``: the commit is durable when it returns) and
reports the batch committed. The new head's anchor line (an anchor that lags is harmless) and
consumers' positions (a statement of their own) follow once the writer is quiet or the
bookkeeping delay has passed, not after every commit. A failed transaction
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
from gateway.journal.store import (
    MAX_ROWS_PER_INSERT,
    ROWS_IN_ONE_STATEMENT,
    insert_records,
    upsert_cursors,
)
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
    failed_cursor_writes: int = 0
    last_commit_s: float = 0.0
    commit_seconds: list[float] = field(default_factory=list)  # recent, bounded


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    done: Callable[[Any, BaseException | None], None]
    after: int
    """Appends submitted before this job; it runs once that many have been written or failed."""


BOOKKEEPING_DELAY_S = 0.1
"""While records keep arriving, the anchor line and consumers' positions are written at most
this long after they were last written. Each save of positions is a transaction with an fsync
of its own (0.4 ms here): written after every commit, as they were whenever the queue happened
to be empty for a moment, they made up a quarter of the writer's busy time at 1,000 linkages/s
(400 saves a second), and the records arriving meanwhile waited behind them. Both may lag
without harm (a lagging anchor is allowed; a position lost in a crash means records are seen
again, which consumers allow for)."""

QUIET_S = 0.002
"""The writer saves the anchor and positions once no record has come for this long after its
last commit: at once for a quiet gateway, never between the commits of a busy one."""

RETRY_INITIAL_S = 0.05
RETRY_MAX_S = 5.0
"""After a failed transaction, positions waiting to be saved are retried on this backoff rather
than at once: a full disk must not turn the writer into a busy loop."""


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
        bookkeeping_delay_s: float = BOOKKEEPING_DELAY_S,
        quiet_s: float = QUIET_S,
    ) -> None:
        self._conn = conn
        self._bookkeeping_delay_s = bookkeeping_delay_s
        self._quiet_s = quiet_s
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
        self._retry_cursors: dict[str, int] = {}
        self._retry_at = 0.0
        self._retry_delay = RETRY_INITIAL_S
        self._saved_at = float("-inf")  # when the anchor and positions were last written
        self._committed_at = float("-inf")  # when records were last committed
        self._anchored_seq = head.seq  # the head the anchor file last got
        self._jobs: list[_Job] = []
        self._submitted = 0  # appends ever submitted
        self._taken = 0  # appends ever taken into a transaction (written or failed)
        self._stopping = False
        self.dead: BaseException | None = None
        """Set if the writer thread ended by an unexpected error; nothing more is accepted."""
        self.fault: FaultState | None = None
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="anfang-journal-writer", daemon=True)

    # -- producer side (any thread) --------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def _check_open(self) -> None:
        if self.dead is not None:
            raise JournalClosedError(f"journal writer stopped after an internal error: {self.dead}")
        if self._stopping:
            raise JournalClosedError("journal is closed; the record was not appended")

    def submit(self, entry: Entry, token: Any) -> None:
        with self._cond:
            self._check_open()
            self._appends.append((entry, token))
            self._submitted += 1
            self._cond.notify()

    def submit_many(self, items: list[tuple[Entry, Any]]) -> None:
        """Queue several entries at once, so they share one transaction where they fit."""
        with self._cond:
            self._check_open()
            self._appends.extend(items)
            self._submitted += len(items)
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
            self._check_open()
            self._jobs.append(_Job(fn, done, self._submitted))
            self._cond.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish everything queued, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._step():
                pass
        except BaseException as exc:  # a bug, not an I/O error: fail loudly, never hang callers
            self.dead = exc
            log.critical("journal writer thread died", error=repr(exc))
            with self._cond:
                pending, self._appends = self._appends, []
                jobs, self._jobs = self._jobs, []
            if pending:
                self._safe(
                    self._on_fail,
                    [t for _, t in pending],
                    JournalWriteError(f"journal writer died: {exc!r}; NOT committed"),
                )
            for job in jobs:
                self._safe(job.done, None, JournalClosedError(f"journal writer died: {exc!r}"))

    def _step(self) -> bool:
        """One round: a transaction if anything is due, then the jobs now due. False to end."""
        with self._cond:
            while True:
                now = time.monotonic()
                retry_due = bool(self._retry_cursors) and (now >= self._retry_at or self._stopping)
                jobs_due = any(j.after <= self._taken for j in self._jobs)
                book_at = self._bookkeeping_at()
                if (
                    self._appends
                    or retry_due
                    or jobs_due
                    or self._stopping
                    or (book_at is not None and now >= book_at)
                ):
                    break
                retry_at = self._retry_at if self._retry_cursors else None
                wake = [t for t in (book_at, retry_at) if t is not None]
                self._cond.wait(min(wake) - now if wake else None)
            # book_at and now stand as the loop left them: judged before the queue is taken
            appends = self._appends[: self._max_batch]
            del self._appends[: self._max_batch]
            self._taken += len(appends)
            due = [j for j in self._jobs if j.after <= self._taken]
            self._jobs = [j for j in self._jobs if j.after > self._taken]
            stopping = self._stopping
            # A job due now (flush) was promised everything queued before it: nothing waits.
            bookkeeping = bool(due) or stopping or (book_at is not None and now >= book_at)
            cursors: dict[str, int] = {}
            if bookkeeping:  # the delay runs from here: the commit's callbacks do not count
                self._saved_at = now
                cursors, self._cursors = self._cursors, {}
            if self._retry_cursors:
                if retry_due:  # try the failed positions again, with any newer ones
                    cursors = _newest(self._retry_cursors, cursors)
                    self._retry_cursors = {}
                else:  # still backing off: newer positions wait with them
                    self._retry_cursors = _newest(self._retry_cursors, cursors)
                    cursors = {}
        if appends or cursors or bookkeeping:
            self._commit(appends, cursors, bookkeeping=bookkeeping)
        for job in due:
            self._run_job(job)
        if stopping:
            with self._cond:
                if self._retry_cursors and not (self._appends or self._cursors):
                    log.error(
                        "journal closing with cursor positions unsaved (writes failing)",
                        cursors=self._retry_cursors,
                    )
                    self._retry_cursors = {}
                return bool(self._appends or self._cursors or self._jobs)
        return True

    def _bookkeeping_at(self) -> float | None:
        """When the anchor line and positions are next due (None: nothing to save):
        BOOKKEEPING_DELAY_S after the last save, or, while no record waits, once the writer
        has been quiet for ``quiet_s`` after its last commit. Called holding the condition."""
        if not self._cursors and self.head.seq <= self._anchored_seq:
            return None
        at = self._saved_at + self._bookkeeping_delay_s
        if not self._appends and self._committed_at > self._saved_at:  # once per commit
            at = min(at, self._committed_at + self._quiet_s)
        return at

    def _run_job(self, job: _Job) -> None:
        try:
            result = job.fn(self._conn)
        except Exception as exc:  # reported to the caller, never kills the writer
            self._rollback()  # a job must not leave a transaction open
            self._safe(job.done, None, exc)
        else:
            if self._conn.in_transaction:
                self._rollback()
            self._safe(job.done, result, None)

    @staticmethod
    def _safe(fn: Callable[..., Any], *args: Any) -> None:
        """Call a completion callback; its failure must not end the writer thread."""
        try:
            fn(*args)
        except Exception as exc:
            log.error("journal completion callback failed", error=repr(exc))

    def _commit(
        self, appends: list[tuple[Entry, Any]], cursors: dict[str, int], *, bookkeeping: bool
    ) -> None:
        """Write ``appends``, then (with ``bookkeeping``) the anchor line, then ``cursors``
        (the positions to save now: all waiting ones with ``bookkeeping``, else only those
        due for a retry)."""
        # The outage is journaled with the next records, never by bookkeeping alone.
        fault_entries = self._fault_entries() if self.fault is not None and appends else []
        entries = fault_entries + [entry for entry, _ in appends]
        tokens = [token for _, token in appends]
        if entries and not self._write_records(entries, tokens, len(fault_entries)):
            self._retry_later(cursors)
            return
        if bookkeeping and self.head.seq > self._anchored_seq:
            try:
                self._anchor.write(self.head)
                self._anchored_seq = self.head.seq
            except OSError as exc:  # records are committed; the anchor only lags
                log.error("anchor write failed", error=str(exc))
        if cursors:
            self._write_cursors(cursors)

    def _write_records(self, entries: list[Entry], tokens: list[Any], n_fault: int) -> bool:
        """Chain and durably insert ``entries``, then report them; False when the write failed
        (every token failed)."""
        seq, prev = self.head.seq, self.head.hash
        records: list[JournalRecord] = []
        for e in entries:
            seq += 1
            record = e.committed(seq, chain.content_hash(e.payload), prev, b"")
            record.hash = prev = chain.link(prev, record.digest())
            records.append(record)
        rows = [r.as_row() for r in records]
        started = time.perf_counter()
        try:
            if self._conn.in_transaction:  # never let an autocommit INSERT join a stray one
                self._conn.execute("ROLLBACK")
            _insert(self._conn, rows)
        except BaseException as exc:
            self._rollback()
            self._note_failure(exc, len(tokens))
            if tokens:
                self._safe(
                    self._on_fail,
                    tokens,
                    JournalWriteError(
                        f"journal write failed, {len(tokens)} record(s) NOT committed: {exc}"
                    ),
                )
            return False
        elapsed = time.perf_counter() - started
        self._committed_at = time.monotonic()
        self.head = chain.ChainHead(seq, prev)
        if n_fault:
            log.warning("journal writable again; outage journaled", fault=str(self.fault))
            self.fault = None
        self.stats.transactions += 1
        self.stats.records += len(rows)
        self.stats.last_commit_s = elapsed
        if len(self.stats.commit_seconds) >= 1024:
            del self.stats.commit_seconds[:512]
        self.stats.commit_seconds.append(elapsed)
        # Report before the bookkeeping: the event loop is waiting for these records.
        self._safe(self._on_commit, records, n_fault, tokens)
        if self._on_bytes is not None:
            self._on_bytes(sum(len(r[9]) for r in rows) + 200 * len(rows))
        return True

    def _write_cursors(self, cursors: dict[str, int]) -> None:
        """Save consumers' positions in one statement of its own: they only ever point at
        records already committed, so they need no transaction with them (a position lost in
        a crash means records are seen again, which consumers allow for)."""
        now_us = time.time_ns() // 1000
        try:
            self._conn.execute(
                upsert_cursors(len(cursors)),
                [v for name, s in cursors.items() for v in (name, s, now_us)],
            )
        except BaseException as exc:
            # Not a journal fault: no record was refused, and records may well be written fine.
            self.stats.failed_cursor_writes += 1
            log.warning("consumer positions not saved; retrying", error=str(exc))
            self._retry_later(cursors)
        else:
            self._retry_delay = RETRY_INITIAL_S

    def _retry_later(self, cursors: dict[str, int]) -> None:
        """Keep positions that could not be saved for a later try, on a backoff."""
        with self._cond:
            self._retry_cursors = _newest(self._retry_cursors, cursors)
            self._retry_at = time.monotonic() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, RETRY_MAX_S)

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


def _newest(older: dict[str, int], newer: dict[str, int]) -> dict[str, int]:
    """Both sets of positions, the higher one for a name in both."""
    merged = dict(older)
    for name, seq in newer.items():
        if seq > merged.get(name, -1):
            merged[name] = seq
    return merged


def _insert(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` durably and atomically.

    Up to :data:`ROWS_IN_ONE_STATEMENT` rows go in one statement that is its own transaction:
    sqlite3 gives the GIL up around every call into SQLite, and while the event loop is busy
    each call then waits its turn to get it back, so BEGIN, INSERT and COMMIT as three calls
    cost two more waits than one. A larger batch goes in power-of-two chunks (21 rows:
    16 + 4 + 1) inside one explicit transaction, so few distinct statements are prepared."""
    total = len(rows)
    if total <= ROWS_IN_ONE_STATEMENT:
        conn.execute(insert_records(total), [value for row in rows for value in row])
        return
    conn.execute("BEGIN IMMEDIATE")
    done = 0
    while done < total:
        size = min(MAX_ROWS_PER_INSERT, 1 << ((total - done).bit_length() - 1))
        chunk = rows[done : done + size]
        conn.execute(insert_records(size), [value for row in chunk for value in row])
        done += size
    conn.execute("COMMIT")
