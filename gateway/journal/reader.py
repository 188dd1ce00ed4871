"""Read-only access to a journal: queries, lookups, cursors and the head.

Used by the CLI while a gateway is running (WAL lets readers and the writer work at once) and by
consumers that have fallen behind the in-memory tail.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.journal import chain
from gateway.journal.filters import Filter
from gateway.journal.records import COLUMNS, JournalRecord, from_row
from gateway.journal.store import DB_NAME, open_reader


class JournalReader:
    """A read-only connection with the queries everything else needs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, data_dir: Path) -> JournalReader:
        return cls(open_reader(data_dir / DB_NAME))

    def close(self) -> None:
        self.conn.close()

    def head(self) -> chain.ChainHead:
        row = self.conn.execute(
            "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return chain.ChainHead(row[0], row[1]) if row else chain.EMPTY_HEAD

    def get(self, seq: int) -> JournalRecord | None:
        row = self.conn.execute(f"SELECT {COLUMNS} FROM records WHERE seq = ?", (seq,)).fetchone()
        return from_row(row) if row else None

    def find(self, record_id: str) -> JournalRecord | None:
        row = self.conn.execute(
            f"SELECT {COLUMNS} FROM records WHERE id = ? ORDER BY seq LIMIT 1", (record_id,)
        ).fetchone()
        return from_row(row) if row else None

    def query(
        self,
        flt: Filter,
        *,
        after_seq: int = 0,
        upto_seq: int | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        limit: int = 1000,
        descending: bool = False,
    ) -> list[JournalRecord]:
        where, params = flt.sql()
        sql = f"SELECT {COLUMNS} FROM records WHERE seq > ?"
        args: list[object] = [after_seq]
        if upto_seq is not None:
            sql += " AND seq <= ?"
            args.append(upto_seq)
        if since_us is not None:
            sql += " AND ts_us >= ?"
            args.append(since_us)
        if until_us is not None:
            sql += " AND ts_us <= ?"
            args.append(until_us)
        sql += where + f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ?"
        args.extend(params)
        args.append(limit)
        return [from_row(r) for r in self.conn.execute(sql, args)]

    def cursors(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT name, seq FROM cursors ORDER BY name").fetchall())

    def cursor(self, name: str) -> int | None:
        row = self.conn.execute("SELECT seq FROM cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM records").fetchone()[0])
