"""Small persistent state (registry entities, plugin key-value state) in ``state.sqlite3``.

Separate from the journal: this is mutable, current state, rebuilt from nothing but pins and
plugins if lost, whereas the journal is the immutable record. WAL with ``synchronous=NORMAL``:
a write survives the process being killed (the OS has it); only a power cut can lose the last
moments, which the journal — fsync'd — still records.
"""

from __future__ import annotations

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
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(SCHEMA)

    def get(self, ns: str, key: str) -> Any:
        row = self._conn.execute(
            "SELECT value FROM kv WHERE ns = ? AND key = ?", (ns, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def items(self, ns: str) -> dict[str, Any]:
        rows = self._conn.execute("SELECT key, value FROM kv WHERE ns = ? ORDER BY key", (ns,))
        return {k: json.loads(v) for k, v in rows}

    def put(self, ns: str, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
            (ns, key, json.dumps(value, separators=(",", ":"))),
        )

    def delete(self, ns: str, key: str) -> None:
        self._conn.execute("DELETE FROM kv WHERE ns = ? AND key = ?", (ns, key))

    def close(self) -> None:
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
