"""Verification: walk the chain and report the first record that was altered, lost or cut off."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from gateway.journal import chain
from gateway.journal.errors import JournalOpenError
from gateway.journal.records import COLUMNS, JournalRecord, from_row
from gateway.journal.store import DB_NAME, open_reader

VERIFY_BATCH = 10_000


@dataclass
class Problem:
    seq: int
    kind: str  # altered | missing | truncated | broken-link | corrupt
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    """``ok`` only when every link holds and the database reaches every anchor line."""

    records: int = 0
    tombstones: int = 0
    head: chain.ChainHead = chain.EMPTY_HEAD
    anchor: chain.ChainHead | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "tombstones": self.tombstones,
            "head": self.head.as_dict(),
            "anchor": None if self.anchor is None else self.anchor.as_dict(),
            "problems": [p.__dict__ for p in self.problems],
        }


def _record_problems(
    r: JournalRecord, expected_seq: int, prev: bytes
) -> list[tuple[int, str, str]]:
    """What is wrong with one record, given the seq and hash that should precede it."""
    found: list[tuple[int, str, str]] = []
    if r.seq != expected_seq:
        last = r.seq - 1
        span = f"{expected_seq}" if last == expected_seq else f"{expected_seq}..{last}"
        found.append((expected_seq, "missing", f"record(s) {span} are missing"))
    if r.prev_hash != prev:
        found.append((r.seq, "broken-link", "prev_hash does not match the previous record"))
    if r.payload is not None and chain.content_hash(r.payload) != r.content_hash:
        found.append((r.seq, "altered", "payload does not match its content hash"))
    digest = r.digest()
    if chain.link(prev, digest) != r.hash:
        found.append((r.seq, "altered", "header or hash does not match the chain"))
    return found


def verify_connection(
    conn: sqlite3.Connection, anchor_lines: list[chain.ChainHead], *, max_problems: int = 20
) -> VerifyReport:
    report = VerifyReport()

    def problem(seq: int, kind: str, detail: str) -> None:
        report.problems.append(Problem(seq, kind, detail))

    check = conn.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        problem(0, "corrupt", f"SQLite quick_check: {check}")
    expected_seq, prev = 1, chain.GENESIS
    after = 0
    while len(report.problems) < max_problems:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, VERIFY_BATCH),
        ).fetchall()
        if not rows:
            break
        for row in rows:
            r = from_row(row)
            report.records += 1
            report.tombstones += r.payload is None
            for seq, kind, detail in _record_problems(r, expected_seq, prev):
                problem(seq, kind, detail)
            if len(report.problems) >= max_problems:
                break
            prev = r.hash
            expected_seq = r.seq + 1
            report.head = chain.ChainHead(r.seq, r.hash)
        after = rows[-1][0]
    if anchor_lines:
        report.anchor = anchor_lines[-1]
    if len(report.problems) >= max_problems:
        return report  # stopped early: report.head is not the real head
    newest = max(anchor_lines, key=lambda line: line.seq, default=None)
    if newest is not None and newest.seq > report.head.seq:
        problem(
            report.head.seq + 1,
            "truncated",
            f"the anchor records seq {newest.seq} but the journal ends at seq "
            f"{report.head.seq}: the newest {newest.seq - report.head.seq} record(s) were removed",
        )
    for line in anchor_lines:
        if line.seq > report.head.seq:
            continue
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (line.seq,)).fetchone()
        if row is not None and row[0] != line.hash:
            problem(line.seq, "altered", "record hash differs from the anchor file")
            break
    return report


def verify_journal(data_dir: Path) -> VerifyReport:
    """Verify the journal in ``data_dir`` (read-only; works while a gateway is running)."""
    db = data_dir / DB_NAME
    conn = open_reader(db)
    try:
        return verify_connection(conn, chain.read_anchor(chain.anchor_path(db)))
    except sqlite3.DatabaseError as exc:
        raise JournalOpenError(f"{db} could not be read to the end: {exc}") from exc
    finally:
        conn.close()
