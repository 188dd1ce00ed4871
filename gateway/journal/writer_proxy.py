"""The gateway's end of a journal writer running in its own process (``writer_child.py``).

Used from the event loop only: what is submitted during one pass of the loop goes to the writer
as one message at the end of it, and the writer's answers are read when the pipe is readable, so
no thread of the gateway's process waits for the GIL (the pipe's own writes and reads are short
and only wait when the writer is far behind). The interface is the writer thread's
(:class:`~gateway.journal.writer.GroupCommitWriter`), callbacks included, except that they run
on the event loop and jobs must be picklable module-level functions.

Whether the writer still runs is known from the pipe (its last message, or the pipe's end), not
from ``Process.is_alive()``, which asks the forkserver: a service manager's SIGTERM to the
process group ends the forkserver, not the writer.

The process comes from a ``forkserver`` that has this package imported: a writer starts in
milliseconds, and it never inherits the gateway's threads or open connections.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import multiprocessing
import os
import pickle
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from gateway import logs
from gateway.journal import chain, writer_child
from gateway.journal.errors import JournalClosedError, JournalOpenError, JournalWriteError
from gateway.journal.pipe_frames import FrameBuffer, frame
from gateway.journal.records import Entry, from_row
from gateway.journal.writer import (
    BOOKKEEPING_DELAY_S,
    MAX_BATCH,
    CommitCallback,
    FailCallback,
    FaultState,
    WriterStats,
)

log = structlog.get_logger("anfang.journal")

READ_BYTES = 1 << 16
"""The most read from the writer's pipe in one pass of the event loop: an answer is ~100 bytes
a record. Kept under malloc's mmap threshold (128 KiB): ``os.read`` allocates the whole size
first, and a 1 MiB buffer cost an mmap, page faults and an munmap on every read."""

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload([writer_child.__name__])


class ProcessWriter:
    """Spawned by :meth:`start`; usable once :meth:`ready` returns."""

    def __init__(
        self,
        db_path: Path,
        head: chain.ChainHead,
        on_commit: CommitCallback,
        on_fail: FailCallback,
        max_batch: int = MAX_BATCH,
        bookkeeping_delay_s: float = BOOKKEEPING_DELAY_S,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.head = head
        self._on_commit = on_commit
        self._on_fail = on_fail
        self.fault: FaultState | None = None
        self.stats = WriterStats()
        self.dead: BaseException | None = None
        """Set once the writer process ended unasked; nothing more is accepted."""
        self._pending: dict[int, tuple[Entry, Any]] = {}
        self._jobs: dict[int, Callable[[Any, BaseException | None], None]] = {}
        self._next_id = 0
        self._outbox: list[tuple[Any, ...]] = []
        self._frames = FrameBuffer()
        self._stopping = False
        self._bye = threading.Event()
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._from_child, child_out = _context.Pipe(duplex=False)
        child_in, self._to_child = _context.Pipe(duplex=False)
        self._child_ends = (child_in, child_out)
        self._process = _context.Process(
            target=writer_child.serve,
            args=(
                child_in,
                child_out,
                str(db_path),
                head.seq,
                head.hash,
                max_batch,
                bookkeeping_delay_s,
                logs.settings,
            ),
            name="anfang-journal-writer",
            daemon=True,
        )

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        # multiprocessing would import the gateway's main script again in the new process (as
        # __mp_main__), running whatever it does at import; the writer needs nothing from it.
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            self._process.start()
        finally:
            sys.modules["__main__"] = main
        for end in self._child_ends:
            end.close()
        os.set_blocking(self._from_child.fileno(), False)
        self._loop.add_reader(self._from_child.fileno(), self._readable)
        # Before multiprocessing's own exit handler, which waits for this process: a gateway
        # that exits without closing its journal closes both pipes, and the writer ends (its
        # answers must not fill a pipe nobody reads, or it would block and never end).
        atexit.register(self._at_exit)

    async def ready(self) -> None:
        """Wait until the writer process has the journal open; JournalOpenError if it could not."""
        await self._ready

    def stop(self, timeout: float = 60.0) -> None:
        """Finish everything queued, then end the process (call from a thread, not the loop)."""
        if not self._bye.is_set():
            self._loop.call_soon_threadsafe(self._request_stop)
            self._bye.wait(timeout)
        if not self._bye.is_set():
            return  # still writing: `alive` stays True and the journal keeps its lock
        self._process.join(timeout)
        atexit.unregister(self._at_exit)
        if self._process.exitcode is not None:
            self._process.close()  # its descriptor for the exit status

    @property
    def alive(self) -> bool:
        """Until the writer said bye or its pipe ended."""
        return not self._bye.is_set()

    def _at_exit(self) -> None:
        self._to_child.close()
        self._from_child.close()

    def _request_stop(self) -> None:
        self._stopping = True
        self._outbox.append((writer_child.STOP,))
        self._flush()

    # -- producer side (the event loop) ----------------------------------------------------

    def _check_open(self) -> None:
        if self.dead is not None:
            raise JournalClosedError(f"journal writer stopped: {self.dead}")
        if self._stopping:
            raise JournalClosedError("journal is closed; the record was not appended")

    def _on_loop(self) -> None:
        if threading.get_ident() != self._loop_thread:
            raise RuntimeError("the journal writer process is fed from the event loop's thread")

    def _send(self, op: tuple[Any, ...]) -> None:
        if not self._outbox:
            self._loop.call_soon(self._flush)
        self._outbox.append(op)

    def submit(self, entry: Entry, token: Any) -> None:
        self._check_open()
        self._on_loop()
        self._next_id += 1
        self._pending[self._next_id] = (entry, token)
        self._send(
            (
                writer_child.APPEND,
                self._next_id,
                entry.rtype.value,
                entry.id,
                entry.kind,
                entry.source,
                entry.phase,
                entry.priority,
                entry.ts_us,
                entry.schema_version,
                entry.payload,
            )
        )

    def submit_many(self, items: list[tuple[Entry, Any]]) -> None:
        self._check_open()
        for entry, token in items:
            self.submit(entry, token)

    def submit_cursor(self, name: str, seq: int) -> None:
        self._on_loop()
        if not self._stopping and self.dead is None:
            self._send((writer_child.CURSOR, name, seq))

    def submit_job(
        self,
        fn: Callable[[Any], Any],
        done: Callable[[Any, BaseException | None], None],
    ) -> None:
        """Run ``fn(conn)`` in the writer process between transactions; ``fn`` must pickle."""
        self._check_open()
        self._on_loop()
        target = fn.func if isinstance(fn, functools.partial) else fn
        try:
            if getattr(target, "__module__", None) == "__main__":
                raise TypeError(f"{target!r} is defined in __main__, which the writer never loads")
            data = pickle.dumps(fn, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                f"a job for the journal writer process must be a module-level function (or a "
                f"functools.partial of one) with picklable arguments: {exc}"
            ) from exc
        self._send((writer_child.JOB, self._next_id + 1, data))
        self._next_id += 1
        self._jobs[self._next_id] = done

    def _flush(self) -> None:
        ops, self._outbox = self._outbox, []
        if not ops:
            return
        try:
            data = memoryview(frame(pickle.dumps(ops, pickle.HIGHEST_PROTOCOL)))
            fd = self._to_child.fileno()
            while data:  # a blocking pipe: a short write only when a signal came in between
                data = data[os.write(fd, data) :]
        except (OSError, ValueError) as exc:  # the process is gone; its bye says why
            log.error("journal writer process unreachable", error=str(exc))
            self._gone(f"the journal writer process could not be reached: {exc}")

    # -- answers (the event loop) ----------------------------------------------------------

    def _readable(self) -> None:
        """Read what the pipe holds (non-blocking, up to READ_BYTES: more waits for the loop's
        next pass) and handle each whole answer in it."""
        try:
            data = os.read(self._from_child.fileno(), READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._gone(f"the journal writer process ended unexpectedly ({exc!r})")
            return
        if not data:
            why = "EOFError()" if not self._frames.partial else "in the middle of an answer"
            self._gone(f"the journal writer process ended unexpectedly ({why})")
            return
        try:
            for message in self._frames.feed(data):
                self._handle(pickle.loads(message))
                if self._bye.is_set():
                    return
        except Exception as exc:  # an answer that makes no sense: fail all, never hang
            log.critical("unreadable answer from the journal writer process", error=repr(exc))
            self._gone(f"the journal writer process answered something unreadable ({exc!r})")

    def _handle(self, msg: tuple[Any, ...]) -> None:
        tag = msg[0]
        if tag == writer_child.COMMITTED:
            self._committed(*msg[1:])
        elif tag == writer_child.FAILED:
            tokens, text, stats, fault = msg[1:]
            self._note(stats, fault)
            owners = [self._pending.pop(t)[1] for t in tokens]
            self._on_fail(owners, JournalWriteError(text))
        elif tag == writer_child.JOB_DONE:
            done = self._jobs.pop(msg[1])
            try:
                result, exc = pickle.loads(msg[2])
            except Exception as problem:  # e.g. an exception class that will not unpickle
                exc = JournalWriteError(f"the job's outcome is unreadable: {problem!r}")
                result = None
            done(result, exc)
        elif tag == writer_child.READY:
            self._ready.set_result(None)
        elif tag == writer_child.OPEN_FAILED:
            self.dead = JournalClosedError(msg[1])
            self._ready.set_exception(JournalOpenError(msg[1]))
        elif tag == writer_child.BYE:
            why = msg[1]
            if why is not None or not self._stopping:
                self._gone(why or "the journal writer process ended unasked")
            else:
                self._fail_leftovers("the journal writer process stopped")
                self._close_pipes()

    def _committed(
        self,
        fault_rows: list[tuple[Any, ...]],
        first_seq: int,
        hashes: list[tuple[bytes, bytes, bytes]],
        tokens: list[int],
        stats: writer_child.Stats,
        fault: tuple[Any, ...] | None,
    ) -> None:
        records = [from_row(row) for row in fault_rows]
        owners = []
        seq = first_seq
        pending = self._pending
        for token, (content_hash, prev_hash, digest) in zip(tokens, hashes, strict=True):
            entry, owner = pending.pop(token)
            records.append(entry.committed(seq, content_hash, prev_hash, digest))
            owners.append(owner)
            seq += 1
        self.head = chain.ChainHead(records[-1].seq, records[-1].hash)
        self._note(stats, fault)
        self._on_commit(records, len(fault_rows), owners)

    def _note(self, stats: writer_child.Stats, fault: tuple[Any, ...] | None) -> None:
        s = self.stats
        if stats[0] > s.transactions:
            if len(s.commit_seconds) >= 1024:
                del s.commit_seconds[:512]
            s.commit_seconds.append(stats[4])
        (
            s.transactions,
            s.records,
            s.failed_transactions,
            s.failed_cursor_writes,
            s.last_commit_s,
        ) = stats
        self.fault = None if fault is None else FaultState(*fault)

    def _gone(self, why: str) -> None:
        """The process ended (or cannot be reached): everything still waiting has failed."""
        if self.dead is None and not (self._stopping and self._bye.is_set()):
            self.dead = JournalClosedError(why)
            log.critical("journal writer process ended", why=why)
        self._fail_leftovers(why)
        self._close_pipes()

    def _fail_leftovers(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            self._on_fail(
                [owner for _, owner in pending.values()],
                JournalWriteError(f"{why}; whether these records were committed is unknown"),
            )
        jobs, self._jobs = self._jobs, {}
        for done in jobs.values():
            done(None, JournalClosedError(why))
        if not self._ready.done():
            self._ready.set_exception(JournalOpenError(why))

    def _close_pipes(self) -> None:
        if self._bye.is_set():
            return
        self._loop.remove_reader(self._from_child.fileno())
        self._from_child.close()
        self._to_child.close()
        self._bye.set()
