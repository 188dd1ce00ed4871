"""The journal writer's own process: the same group-commit writer, fed through a pipe.

Why a process of its own: in the gateway's process the writer thread gives the GIL up around
every call into SQLite or the OS and must then wait for the busy event loop to hand it back, up
to the 5 ms switch interval each time, two commits deep on the way from an alarm to its linkage
command (bench/linkage.py, one rule, 1,000 alarms/s: p50 6.7-7.6 ms with the thread; 1.2-1.6 ms
with the writer's work removed altogether). Here the writer shares the GIL with nobody busy.

This module is what runs in that process (:func:`serve`); ``writer_proxy.py`` is its other end
in the gateway. Messages are pickled tuples, each a list of operations, answered in order:

gateway → writer: ``(APPEND, token, rtype, id, kind, source, phase, priority, ts_us,
schema_version, payload)``, ``(CURSOR, name, seq)``, ``(JOB, job_id, pickled fn)``, ``(STOP,)``.

writer → gateway: ``(READY,)`` or ``(OPEN_FAILED, text)`` first; then ``(COMMITTED, fault_rows,
first_seq, hashes, tokens, stats, fault)``, ``(FAILED, tokens, text, stats, fault)``,
``(JOB_DONE, job_id, pickled (result, exc))``; last ``(BYE, why)`` (``why`` None after a
requested stop). A job and its outcome travel pickled on their own, so one that cannot be read
on the other side fails that job, not the pipe.

The process ignores SIGINT, SIGTERM and SIGHUP: a Ctrl-C, a service manager's stop or a hangup
reaches the whole process group, and the gateway still journals its own stop (or reloads) after
that. It ends when told to, or when the gateway's end of the pipe closes (the gateway is gone):
either way it first commits everything it has received. It holds ``journal.writer.lock`` for its
whole life, so a gateway started after one that died waits for its writer to finish.
"""

from __future__ import annotations

import contextlib
import functools
import pickle
import signal
import threading
from dataclasses import astuple
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from gateway import logs
from gateway.journal import chain
from gateway.journal.checkpointer import Checkpointer
from gateway.journal.errors import JournalClosedError, JournalWriteError
from gateway.journal.records import Entry, JournalRecord, RecordType
from gateway.journal.store import hold_writer_lock, open_writer
from gateway.journal.writer import GroupCommitWriter, WriterStats

log = structlog.get_logger("anfang.journal")

APPEND = "a"
CURSOR = "c"
JOB = "j"
STOP = "s"

READY = "ready"
OPEN_FAILED = "open-failed"
COMMITTED = "ok"
FAILED = "failed"
JOB_DONE = "job"
BYE = "bye"

Stats = tuple[int, int, int, int, float]
"""transactions, records, failed_transactions, failed_cursor_writes, last_commit_s."""


def stats_of(stats: WriterStats) -> Stats:
    return (
        stats.transactions,
        stats.records,
        stats.failed_transactions,
        stats.failed_cursor_writes,
        stats.last_commit_s,
    )


class _Outbox:
    """Sends to the gateway from the writer thread and the main thread alike."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)  # raises before anything is sent
        with self._lock:
            self._conn.send_bytes(data)


def serve(
    inbox: Connection,
    outbox_conn: Connection,
    db_path: str,
    head_seq: int,
    head_hash: bytes,
    max_batch: int,
    bookkeeping_delay_s: float,
    log_settings: tuple[str, str],
) -> None:
    """The writer process's whole life: open, write what arrives, commit the rest, say bye."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    logs.configure(*log_settings)
    outbox = _Outbox(outbox_conn)
    path = Path(db_path)
    try:
        hold_writer_lock(path.parent)  # released when this process ends
        conn = open_writer(path)
        anchor = chain.AnchorWriter(chain.anchor_path(path))
    except Exception as exc:
        outbox.send((OPEN_FAILED, f"{type(exc).__name__}: {exc}"))
        return
    checkpointer = Checkpointer(path)
    writer: GroupCommitWriter

    def committed(records: list[JournalRecord], offset: int, tokens: list[Any]) -> None:
        outbox.send(
            (
                COMMITTED,
                [r.as_row() for r in records[:offset]],
                records[offset].seq if offset < len(records) else 0,
                [(r.content_hash, r.prev_hash, r.hash) for r in records[offset:]],
                tokens,
                stats_of(writer.stats),
                None if writer.fault is None else astuple(writer.fault),
            )
        )

    def failed(tokens: list[Any], exc: BaseException) -> None:
        fault = None if writer.fault is None else astuple(writer.fault)
        outbox.send((FAILED, tokens, str(exc), stats_of(writer.stats), fault))

    writer = GroupCommitWriter(
        conn,
        chain.ChainHead(head_seq, head_hash),
        anchor,
        committed,
        failed,
        max_batch=max_batch,
        on_bytes=checkpointer.note_written,
        bookkeeping_delay_s=bookkeeping_delay_s,
    )
    writer.start()
    checkpointer.start()
    outbox.send((READY,))
    why: str | None = None
    try:
        why = _receive(inbox, writer, outbox)
    except Exception as exc:  # a message that would not unpickle: end loudly, never hang
        why = f"journal writer process failed: {exc!r}"
        raise
    finally:
        writer.stop()
        checkpointer.stop()
        checkpointer.join()
        if writer.alive:
            why = "the writer did not finish in time; its files were left open"
        else:
            anchor.close()
            conn.close()
        if writer.dead is not None:
            why = f"journal writer died: {writer.dead!r}"
        with contextlib.suppress(OSError):  # the gateway is gone: nobody to tell
            outbox.send((BYE, why))


def _receive(inbox: Connection, writer: GroupCommitWriter, outbox: _Outbox) -> str | None:
    """Hand what arrives to the writer until told to stop; why it ended otherwise."""
    while True:
        try:
            ops = pickle.loads(inbox.recv_bytes())
        except EOFError:
            return "the gateway closed its end of the pipe"
        appends: list[tuple[Entry, Any]] = []
        try:
            for op in ops:
                tag = op[0]
                if tag == APPEND:
                    entry = Entry(RecordType(op[2]), *op[3:], None)  # type: ignore[call-arg]
                    appends.append((entry, op[1]))
                    continue
                if appends:
                    writer.submit_many(appends)
                    appends = []
                if tag == CURSOR:
                    writer.submit_cursor(op[1], op[2])
                elif tag == JOB:
                    done = functools.partial(_job_done, outbox, op[1])
                    try:
                        fn = pickle.loads(op[2])
                    except Exception as exc:  # e.g. a function this process cannot import
                        done(None, TypeError(f"the writer process cannot load this job: {exc!r}"))
                    else:
                        writer.submit_job(fn, done)
                elif tag == STOP:
                    return None
            if appends:
                writer.submit_many(appends)
        except JournalClosedError as exc:  # the writer thread died: nothing more is accepted
            if appends:
                tokens = [t for _, t in appends]
                outbox.send((FAILED, tokens, str(exc), stats_of(writer.stats), None))
            return str(exc)


def _job_done(outbox: _Outbox, job_id: int, result: Any, exc: BaseException | None) -> None:
    try:
        outcome = pickle.dumps((result, exc), pickle.HIGHEST_PROTOCOL)
    except Exception as problem:  # the answer would not pickle: say so rather than never answer
        failure = JournalWriteError(f"the writer job's outcome could not be sent back: {problem!r}")
        outcome = pickle.dumps((None, failure), pickle.HIGHEST_PROTOCOL)
    outbox.send((JOB_DONE, job_id, outcome))
