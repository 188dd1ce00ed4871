"""Small persistent state (registry entities, plugin key-value state) in ``state.sqlite3``.

Separate from the journal: this is mutable, current state, rebuilt from nothing but pins and
plugins if lost, whereas the journal is the immutable record. WAL with ``synchronous=NORMAL``:
a write survives the process being killed (the OS has it); only a power cut can lose the last
moments, which the journal — fsync'd — still records.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    ns    TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (ns, key)
);
"""


class StateDB:
    """Key-value rows by namespace; writes are gathered and committed together.

    A write is visible to ``get``/``items`` at once and reaches the database within
    ``FLUSH_AFTER_S`` in one transaction with the writes around it (in order, so whatever is
    written last — a tracker's position — is never on disk without what came before it). One
    transaction per write cost the receiver most of its time under load.
    """

    FLUSH_AFTER_S = 0.1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        # SQLite checkpoints inside the commit that crosses this many WAL pages, on the event
        # loop: at its default (1,000 pages) the incident save's slices met one 4 MB checkpoint
        # per save, 7-8 ms in one commit; at 128 pages (512 KB) they are about 4 ms.
        self._conn.execute("PRAGMA wal_autocheckpoint = 128")
        self._conn.executescript(SCHEMA)
        self._pending: dict[tuple[str, str], str | None] = {}
        self._flush_scheduled = False
        self._durable: asyncio.Future[None] | None = None

    def get(self, ns: str, key: str) -> Any:
        if (ns, key) in self._pending:
            text = self._pending[(ns, key)]
            return None if text is None else json.loads(text)
        row = self._conn.execute(
            "SELECT value FROM kv WHERE ns = ? AND key = ?", (ns, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def items(self, ns: str) -> dict[str, Any]:
        rows = self._conn.execute("SELECT key, value FROM kv WHERE ns = ? ORDER BY key", (ns,))
        out = {k: json.loads(v) for k, v in rows}
        for (pending_ns, key), text in self._pending.items():
            if pending_ns != ns:
                continue
            if text is None:
                out.pop(key, None)
            else:
                out[key] = json.loads(text)
        return dict(sorted(out.items()))

    def put(self, ns: str, key: str, value: Any) -> None:
        self.put_json(ns, key, json.dumps(value, separators=(",", ":")))

    def put_json(self, ns: str, key: str, text: str) -> None:
        """:meth:`put` of a value already encoded as JSON text (a pydantic model's
        ``model_dump_json()``: a quarter of the cost of dumping it to Python and then to JSON)."""
        self._pending.pop((ns, key), None)  # re-insert: the newest write goes last
        self._pending[(ns, key)] = text
        self._schedule()

    def delete(self, ns: str, key: str) -> None:
        self._pending.pop((ns, key), None)
        self._pending[(ns, key)] = None
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a tool, a test): write through
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_later(self.FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        """Commit every pending write in one transaction."""
        self._flush_scheduled = False
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            with self._conn:  # one transaction: all of it or none, whatever the order inside
                self._conn.execute("BEGIN")
                self._conn.executemany(
                    "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
                    [(ns, key, text) for (ns, key), text in pending.items() if text is not None],
                )
                self._conn.executemany(
                    "DELETE FROM kv WHERE ns = ? AND key = ?",
                    [key for key, text in pending.items() if text is None],
                )
        except sqlite3.Error:
            self._pending = {**pending, **self._pending}  # keep them for the next attempt
            self._schedule()
            raise

    async def durable(self) -> None:
        """Return once every write made so far is committed, so it outlives a crash of this
        process (the WAL is in the OS before the call returns). Callers that ask in the same
        turn of the loop share one commit; a failed commit raises to each of them."""
        if not self._pending:
            return
        waiting = self._durable
        if waiting is None:
            loop = asyncio.get_running_loop()
            waiting = self._durable = loop.create_future()
            loop.call_soon(self._commit_for_waiters)
        await asyncio.shield(waiting)

    def _commit_for_waiters(self) -> None:
        waiting, self._durable = self._durable, None
        if waiting is None:
            return
        try:
            self.flush()
        except sqlite3.Error as exc:
            waiting.set_exception(exc)
        else:
            waiting.set_result(None)

    def close(self) -> None:
        self.flush()
        self._conn.close()


class StateStore:
    """One namespace of the state DB: what ``ctx.state`` gives a plugin instance."""

    def __init__(self, db: StateDB, ns: str) -> None:
        self._db = db
        self._ns = ns

    def get(self, key: str, default: Any = None) -> Any:
        value = self._db.get(self._ns, key)
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        self._db.put(self._ns, key, value)

    def delete(self, key: str) -> None:
        self._db.delete(self._ns, key)

    def items(self) -> dict[str, Any]:
        return self._db.items(self._ns)

    async def durable(self) -> None:
        """Wait until this store's writes so far would survive a crash (``set`` is written
        within 0.1 s by itself; await this when an action outside must not run before)."""
        await self._db.durable()
