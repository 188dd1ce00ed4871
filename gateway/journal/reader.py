"""Read-only access to a journal: queries, lookups, cursors and the head.

Used by the CLI while a gateway is running (WAL lets readers and the writer work at once) and by
consumers that have fallen behind the in-memory tail.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
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

    def _select(
        self,
        flt: Filter,
        *,
        after_seq: int,
        upto_seq: int | None,
        since_us: int | None,
        until_us: int | None,
        limit: int,
        descending: bool,
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

    def scan(
        self, flt: Filter, *, after_seq: int, upto_seq: int, limit: int
    ) -> tuple[list[JournalRecord], int]:
        """Matching records in (after_seq, upto_seq], reading at most ``limit`` rows; also the
        seq up to which everything was examined (for consumers that move on past it)."""
        rows = self._select(
            flt,
            after_seq=after_seq,
            upto_seq=upto_seq,
            since_us=None,
            until_us=None,
            limit=limit,
            descending=False,
        )
        scanned = rows[-1].seq if len(rows) == limit else upto_seq
        if not flt.sql_exact:
            rows = [r for r in rows if flt.matches(r)]
        return rows, scanned

    def scan_all(
        self, flt: Filter, *, after_seq: int, upto_seq: int, page: int = 1000
    ) -> Iterator[JournalRecord]:
        """Every matching record in (after_seq, upto_seq], read a page at a time."""
        while after_seq < upto_seq:
            records, after_seq = self.scan(flt, after_seq=after_seq, upto_seq=upto_seq, limit=page)
            yield from records

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
        """Up to ``limit`` matching records; fewer only when no more match."""

        def select(low: int, high: int | None) -> list[JournalRecord]:
            return self._select(
                flt,
                after_seq=low,
                upto_seq=high,
                since_us=since_us,
                until_us=until_us,
                limit=limit,
                descending=descending,
            )

        if flt.sql_exact:
            return select(after_seq, upto_seq)
        out: list[JournalRecord] = []
        low, high = after_seq, upto_seq
        while len(out) < limit:
            rows = select(low, high)
            out.extend(r for r in rows if flt.matches(r))
            if len(rows) < limit:
                break
            if descending:
                high = rows[-1].seq - 1
            else:
                low = rows[-1].seq
        return out[:limit]

    def cursors(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT name, seq FROM cursors ORDER BY name").fetchall())

    def cursor(self, name: str) -> int | None:
        row = self.conn.execute("SELECT seq FROM cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM records").fetchone()[0])
