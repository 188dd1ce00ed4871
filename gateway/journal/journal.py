"""The journal: the durable, append-only, hash-chained log that is the gateway's bus.

``await journal.append(record)`` returns the record's seq only once it is on disk. Consumers read
in order through :meth:`Journal.subscribe`, each from its own position (a durable named cursor or
an explicit seq), woken by commits, so no consumer ever blocks intake.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import structlog

from gateway.journal import chain
from gateway.journal.checkpointer import Checkpointer
from gateway.journal.consumer import Consumer
from gateway.journal.errors import (
    CursorInUseError,
    JournalClosedError,
    JournalIntegrityError,
)
from gateway.journal.filters import Filter
from gateway.journal.reader import JournalReader
from gateway.journal.records import JournalRecord, Payload, prepare
from gateway.journal.retention import PruneReport, RetentionPolicy, prune_batch
from gateway.journal.store import (
    DB_NAME,
    DirectoryLock,
    ensure_data_dir,
    open_reader,
    open_writer,
    wait_for_old_writer,
)
from gateway.journal.writer import MAX_BATCH, FaultState, GroupCommitWriter, WriterStats
from gateway.journal.writer_proxy import ProcessWriter
from gateway.model.event import Event
from gateway.model.kinds import Phase

log = structlog.get_logger("anfang.journal")
T = TypeVar("T")
WriterMode = Literal["thread", "process"]

TAIL_SIZE = 1024
"""Committed records kept in memory for live consumers; a consumer further behind reads the
database instead. Live consumers read within milliseconds of a commit, and each kept record is
a few objects the garbage collector walks: with 8,192 kept, a collection walked seconds of
records (up to 50 ms with the event loop stopped, measured at 1,000 linkages/s); with 1,024 the
longest is about 5 ms."""
OLD_WRITER_WAIT_S = 30.0
"""How long opening waits for the writer process of a gateway that died to finish."""
TAIL_ANSWERS_KEPT = 256
"""Distinct (position, filter) questions answered per commit before the memo starts over."""


class _Tail:
    """A ring of the newest committed records, indexed by seq (seqs are contiguous)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ring: list[JournalRecord | None] = [None] * size
        self.first = 0  # oldest seq held, 0 when empty
        self.last = 0

    def add(self, record: JournalRecord) -> None:
        self._ring[record.seq % self._size] = record
        self.last = record.seq
        if self.first == 0:
            self.first = record.seq
        elif self.last - self.first >= self._size:
            self.first = self.last - self._size + 1

    def read(
        self, after: int, upto: int, limit: int, flt: Filter
    ) -> tuple[list[JournalRecord], int] | None:
        """Matching records in (after, upto], or None when ``after`` is older than the ring."""
        if self.first == 0 or after + 1 < self.first or upto > self.last:
            return None
        out: list[JournalRecord] = []
        seq = after
        ring, size = self._ring, self._size
        while seq < upto and len(out) < limit:
            seq += 1
            record = ring[seq % size]
            assert record is not None and record.seq == seq
            if flt.matches(record):
                out.append(record)
        return out, seq


class Journal:
    """Open with ``await Journal.open(data_dir)``; close with ``await journal.close()``."""

    def __init__(
        self,
        data_dir: Path,
        conn: sqlite3.Connection | None,
        lock: DirectoryLock,
        reader: JournalReader,
        head: chain.ChainHead,
        retention: RetentionPolicy,
        tail_size: int,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / DB_NAME
        self.retention = retention
        self._loop = asyncio.get_running_loop()
        self._lock = lock
        self._conn = conn
        self.reader = reader
        self._tail = _Tail(tail_size)
        self.committed_seq = head.seq
        self._waiters: list[asyncio.Future[int]] = []
        self._match_waiters: dict[Filter, list[asyncio.Future[int]]] = {}
        """Waiters woken only by a commit that holds a record their filter matches."""
        self._tail_answers: dict[tuple[int, int, int, Filter], tuple[list[JournalRecord], int]] = {}
        self._cursors_in_use: set[str] = set()
        self._cursor_commits: dict[str, int] = {}
        """Newest position committed per cursor in this process, perhaps not on disk yet: a
        consumer that takes a cursor over (an engine replaced by a reload) starts from here."""
        self._consumers: set[Consumer] = set()
        self.closed = False
        self._anchor: chain.AnchorWriter | None = None
        self._checkpointer: Checkpointer | None = None
        self._writer: GroupCommitWriter | ProcessWriter
        if conn is None:  # the writer opens its own connection in its own process
            self._writer = ProcessWriter(
                self.db_path, head, self._committed, self._failed, max_batch=max_batch
            )
        else:
            self._anchor = chain.AnchorWriter(chain.anchor_path(self.db_path))
            self._checkpointer = Checkpointer(self.db_path)
            self._writer = GroupCommitWriter(
                conn,
                head,
                self._anchor,
                self._committed_threadsafe,
                self._failed_threadsafe,
                max_batch=max_batch,
                on_bytes=self._checkpointer.note_written,
            )
            self._checkpointer.start()
        self._writer.start()

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        *,
        retention: RetentionPolicy | None = None,
        tail_size: int = TAIL_SIZE,
        max_batch: int = MAX_BATCH,
        accept_anchor_mismatch: bool = False,
        writer: WriterMode = "thread",
    ) -> Journal:
        """Open (or create) the journal in ``data_dir``; one writing process per directory.

        Refuses a journal whose newest records no longer match the anchor file (records were cut
        off or altered) with :class:`JournalIntegrityError`, unless ``accept_anchor_mismatch``:
        then the old anchor is kept aside and a ``journal.tamper`` alarm is journaled.
        ``max_batch`` caps records per transaction (1 turns group commit off, for comparison).
        ``writer="process"`` runs the writer in a process of its own (writer_child.py): the
        gateway does, so that the event loop and the writer never wait for each other's GIL;
        a job for :meth:`run_on_writer` must then be a module-level function.
        """
        data_dir = ensure_data_dir(Path(data_dir))
        db_path = data_dir / DB_NAME
        anchor = chain.anchor_path(db_path)
        lock = DirectoryLock(data_dir)
        try:
            if writer == "process":  # one of an earlier run that died may still be committing
                await asyncio.to_thread(wait_for_old_writer, data_dir, OLD_WRITER_WAIT_S)
            conn = open_writer(db_path)
            try:
                head = JournalReader(conn).head()
                problem = _anchor_problem(JournalReader(conn), head, anchor)
                if problem and not accept_anchor_mismatch:
                    raise JournalIntegrityError(
                        f"{problem}. Nothing was written. Run 'anfang verify' to inspect; to "
                        "keep using this journal anyway, start with --accept-anchor-mismatch "
                        "(the old anchor is kept aside and a journal.tamper alarm is recorded)"
                    )
                aside = anchor.with_name(anchor.name + f".rejected-{head.seq}")
                if problem:
                    anchor.replace(aside)
                # The writer owns `conn`; reads on the loop thread use their own connection.
                reader = JournalReader(open_reader(db_path))
            except BaseException:
                conn.close()
                raise
            writer_conn: sqlite3.Connection | None = conn
            if writer == "process":
                conn.close()
                writer_conn = None
        except BaseException:
            lock.release()
            raise
        try:
            journal = cls(
                data_dir,
                writer_conn,
                lock,
                reader,
                head,
                retention or RetentionPolicy(),
                tail_size,
                max_batch,
            )
        except BaseException:  # the writer could not start: give everything back
            reader.close()
            if writer_conn is not None:
                writer_conn.close()
            lock.release()
            raise
        if isinstance(journal._writer, ProcessWriter):
            try:
                await journal._writer.ready()
            except BaseException:
                await journal.close()
                raise
        if problem:
            await journal._journal_tamper(problem, str(aside))
        return journal

    async def _journal_tamper(self, problem: str, aside: str) -> None:
        await self.append(
            Event(
                kind="journal.tamper",
                phase=Phase.ALARM,
                priority=1,
                source="gateway/journal",
                text=problem,
                data={"anchor_kept_at": aside},
            )
        )

    # -- appending -----------------------------------------------------------------------------

    async def append(self, payload: Payload) -> int:
        """Append one record; returns its seq once the record is durable.

        Raises RecordValidationError for a non-record (nothing written), JournalWriteError when
        the write failed (the record is not in the journal), JournalClosedError after close.
        """
        return await self.submit(payload)

    def submit(self, payload: Payload) -> asyncio.Future[int]:
        """Hand one record to the writer now; the future gives its seq once it is durable.

        For a caller that must know the outcome even if it is cancelled meanwhile (await it
        through ``asyncio.shield``): the record is written whether or not anyone waits."""
        if self.closed:
            raise JournalClosedError("journal is closed; the record was not appended")
        entry = prepare(payload)
        fut: asyncio.Future[int] = self._loop.create_future()
        self._writer.submit(entry, fut)
        return fut

    async def append_many(self, payloads: list[Payload]) -> list[int]:
        """Append several records (same durability as :meth:`append`); seqs in order."""
        if self.closed:
            raise JournalClosedError("journal is closed; the records were not appended")
        items = [(prepare(p), self._loop.create_future()) for p in payloads]
        self._writer.submit_many(items)
        return list(await asyncio.gather(*(fut for _, fut in items)))

    def _committed_threadsafe(
        self, records: list[JournalRecord], offset: int, tokens: list[Any]
    ) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._committed, records, offset, tokens)

    def _committed(self, records: list[JournalRecord], offset: int, tokens: list[Any]) -> None:
        tail = self._tail
        for record in records:
            tail.add(record)
        self.committed_seq = records[-1].seq
        self._tail_answers.clear()  # answers for the old head: nobody asks them again
        for fut, record in zip(tokens, records[offset:], strict=True):
            if not fut.done():
                fut.set_result(record.seq)
        self._wake(records)

    def _failed_threadsafe(self, tokens: list[Any], exc: BaseException) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._failed, tokens, exc)

    def _failed(self, tokens: list[Any], exc: BaseException) -> None:
        for fut in tokens:
            if not fut.done():
                fut.set_exception(exc)

    def notify(self) -> None:
        """Wake every waiting consumer (the journal closes)."""
        waiters, self._waiters = self._waiters, []
        for group in self._match_waiters.values():
            waiters.extend(group)
        self._match_waiters = {}
        _resolve(waiters, 0)

    def _wake(self, records: list[JournalRecord]) -> None:
        """After a commit: every plain waiter, and the filtered ones the records concern. These
        learn that nothing before the commit was theirs: every commit since they began waiting
        was tested against their filter, so they step over it without reading it."""
        waiters, self._waiters = self._waiters, []
        _resolve(waiters, 0)
        matched = [f for f in self._match_waiters if _any_match(f, records)]
        for flt in matched:
            _resolve(self._match_waiters.pop(flt), records[0].seq - 1)

    def commit_waiter(self, flt: Filter | None = None) -> asyncio.Future[int]:
        """A future the next commit (or close) resolves; with ``flt``, only the next commit
        holding a record ``flt`` matches (or close). Its value is a seq before which nothing
        matches ``flt`` (0 when unknown): the waiting consumer may move there without reading.

        A bare future rather than ``wait_for(event.wait())``, which made a task per wait: with a
        hundred stream clients and the engines each waking on every commit, that task was the
        largest single cost of following the journal (bench/api.py). The filtered form is for
        a hundred clients following a narrow feed: an incident record that none of them wants
        used to wake them all, each only to find nothing and wait again (bench/api.py: 48,000
        such wake-ups in five seconds, against 10,000 sends)."""
        waiters = self._waiters if flt is None else self._match_waiters.setdefault(flt, [])
        if len(waiters) > 1024:  # timed-out waits of a quiet journal
            waiters[:] = [w for w in waiters if not w.done()]
        waiter: asyncio.Future[int] = self._loop.create_future()
        waiters.append(waiter)
        return waiter

    # -- reading -------------------------------------------------------------------------------

    def head(self) -> chain.ChainHead:
        """The newest committed record's seq and hash (for outside copies)."""
        return self._writer.head

    def tail_read(
        self, after: int, upto: int, limit: int, flt: Filter
    ) -> tuple[list[JournalRecord], int] | None:
        """Records after ``after`` up to ``upto`` from memory (None: no longer held there).

        Consumers following the head with the same filter (a hundred stream clients) ask the
        same question after each commit: it is answered once per commit, not once each."""
        key = (after, upto, limit, flt)
        found = self._tail_answers.get(key)
        if found is None:
            answer = self._tail.read(after, upto, limit, flt)
            if answer is None:
                return None
            if len(self._tail_answers) >= TAIL_ANSWERS_KEPT:
                self._tail_answers.clear()
            self._tail_answers[key] = found = answer
        return list(found[0]), found[1]  # a list of its own: a consumer may extend it

    def subscribe(
        self,
        flt: Filter | None = None,
        cursor: str | None = None,
        *,
        after: int | None = None,
        new_cursor_start: Literal["beginning", "head"] = "beginning",
        wake_for_matches: bool = False,
    ) -> Consumer:
        """A consumer of matching records in seq order.

        With ``cursor``, reading resumes after the cursor's committed position (a new cursor
        starts at the beginning or the head); only one live consumer may hold a cursor name.
        Without, reading starts after ``after`` (default: the head, i.e. only new records).

        ``wake_for_matches``: a waiting consumer is woken only by commits that hold a record it
        wants, not by every commit; its ``position`` then stays before the records it skips
        until the next match. For the many live followers of a narrow feed (the API's streams);
        not for a cursor, whose position is shown as its backlog.
        """
        if self.closed:
            raise JournalClosedError("journal is closed")
        if wake_for_matches and cursor is not None:
            raise ValueError("wake_for_matches is for consumers without a cursor")
        flt = flt or Filter()
        if cursor is not None:
            if cursor in self._cursors_in_use:
                raise CursorInUseError(
                    f"cursor {cursor!r} is already held by a live consumer; each consumer "
                    "needs its own cursor name"
                )
            stored = self.reader.cursor(cursor)
            if cursor in self._cursor_commits:
                stored = max(stored or 0, self._cursor_commits[cursor])
            if stored is not None:
                position = stored
            elif after is not None:
                position = after
            else:
                position = 0 if new_cursor_start == "beginning" else self.committed_seq
            if stored is None:  # save the start, or a crash before the first commit skips records
                self._writer.submit_cursor(cursor, position)
            self._cursors_in_use.add(cursor)
        else:
            position = self.committed_seq if after is None else after
        consumer = Consumer(self, flt, cursor, position, wake_for_matches=wake_for_matches)
        self._consumers.add(consumer)
        return consumer

    def commit_cursor(self, name: str, seq: int) -> None:
        if seq > self._cursor_commits.get(name, -1):
            self._cursor_commits[name] = seq
        self._writer.submit_cursor(name, seq)

    def release_cursor(self, consumer: Consumer) -> None:
        self._consumers.discard(consumer)
        if consumer.name is not None:
            self._cursors_in_use.discard(consumer.name)

    # -- maintenance ---------------------------------------------------------------------------

    async def run_on_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the writer's connection, between transactions (in a writer
        process, ``fn`` must be a module-level function: it is pickled there)."""
        fut: asyncio.Future[T] = self._loop.create_future()

        def done(result: Any, exc: BaseException | None) -> None:
            def settle() -> None:
                if fut.done():
                    return
                if exc is not None:
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)

            with contextlib.suppress(RuntimeError):  # loop closed: nobody waits any more
                self._loop.call_soon_threadsafe(settle)

        self._writer.submit_job(fn, done)
        return await fut

    async def prune(self, now_us: int | None = None) -> PruneReport:
        """Tombstone records older than their retention (payload removed, hashes kept).

        One batch per writer job: appends queued meanwhile are written between batches, so a
        large prune never holds up intake.
        """
        now = time.time_ns() // 1000 if now_us is None else now_us
        report = PruneReport()
        after: int | None = 0
        while after is not None:
            after, batch = await self.run_on_writer(
                functools.partial(prune_batch, policy=self.retention, now_us=now, after=after)
            )
            report.add(batch)
        return report

    async def flush(self) -> None:
        """Wait until everything queued before this call (appends, cursor positions) is durable."""
        await self.run_on_writer(_nothing)

    @property
    def fault(self) -> FaultState | None:
        """Set while writes are failing (disk full, I/O error)."""
        return self._writer.fault

    @property
    def stats(self) -> WriterStats:
        return self._writer.stats

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Finish queued writes, stop the writer, release the directory."""
        if self.closed:
            return
        self.closed = True
        for consumer in list(self._consumers):
            consumer.close()
        await asyncio.to_thread(self._writer.stop)
        if self._checkpointer is not None:
            self._checkpointer.stop()
            await asyncio.to_thread(self._checkpointer.join)
        await asyncio.sleep(0)  # let the final commit callbacks run
        self.notify()
        self.reader.close()
        if self._writer.alive:  # never pull the connection or the lock from a live writer
            log.error("journal writer did not stop in time; keeping its files and lock open")
            return
        if self._anchor is not None:
            self._anchor.close()
        if self._conn is not None:
            self._conn.close()
        self._lock.release()

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _resolve(waiters: list[asyncio.Future[int]], nothing_before: int) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(nothing_before)


def _any_match(flt: Filter, records: list[JournalRecord]) -> bool:
    return any(flt.matches(record) for record in records)


def _anchor_problem(reader: JournalReader, head: chain.ChainHead, anchor: Path) -> str | None:
    """Why the database's end disagrees with the anchor's last line, or None."""
    lines = chain.read_anchor(anchor)
    if not lines:
        return None
    last = lines[-1]
    if last.seq > head.seq:
        return (
            f"the journal ends at seq {head.seq} but its anchor records seq {last.seq}: "
            f"the newest {last.seq - head.seq} record(s) were removed"
        )
    record = reader.get(last.seq)
    if record is None or record.hash != last.hash:
        return f"record seq {last.seq} does not match the hash in the anchor file (altered)"
    return None


def _nothing(conn: sqlite3.Connection) -> None:
    """A writer job that only waits its turn (module-level: it may be pickled)."""
