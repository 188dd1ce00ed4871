"""Backups and evidence exports.

An evidence export is JSON lines a third party can check without Anfang's database: a header with
the hash preceding the range, every record of the range with its exact payload text, the digests
of every later record up to the chain head (the proof), and that head. :func:`verify_export`
recomputes the chain from the header through the proof; if the head it reaches equals a head
published outside the gateway (anchor file, MQTT, a platform's copy), the range is unaltered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from gateway.journal import chain
from gateway.journal.records import COLUMNS, JournalRecord, from_row
from gateway.journal.store import DB_NAME, open_reader

EXPORT_FORMAT = "anfang-evidence"
EXPORT_VERSION = 1
PROOF_CHUNK = 10_000


def backup(data_dir: Path, dest: Path) -> chain.ChainHead:
    """An online, consistent copy of the journal (SQLite backup API) plus its own anchor."""
    if dest.exists():
        raise FileExistsError(f"backup destination {dest} already exists; choose a new name")
    src = open_reader(data_dir / DB_NAME)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        row = dst.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        dst.close()
        src.close()
    head = chain.ChainHead(row[0], row[1]) if row else chain.EMPTY_HEAD
    writer = chain.AnchorWriter(chain.anchor_path(dest))
    writer.write(head)
    writer.close()
    return head


def _record_line(r: JournalRecord) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "rtype": r.rtype.value,
        "id": r.id,
        "kind": r.kind,
        "source": r.source,
        "phase": r.phase,
        "priority": r.priority,
        "ts_us": r.ts_us,
        "schema_version": r.schema_version,
        "payload": None if r.payload is None else r.payload.decode(),
        "content_hash": r.content_hash.hex(),
        "hash": r.hash.hex(),
    }


def export_range(
    data_dir: Path, out: IO[str], since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Write the records received in [since, until] (a contiguous seq range) as evidence."""
    conn = open_reader(data_dir / DB_NAME)
    try:
        lo_us = int(since.timestamp() * 1e6) if since else None
        hi_us = int(until.timestamp() * 1e6) if until else None
        first = conn.execute(
            "SELECT min(seq) FROM records WHERE ts_us >= ?", (lo_us or 0,)
        ).fetchone()[0]
        last = conn.execute(
            "SELECT max(seq) FROM records WHERE ts_us <= ?",
            (hi_us if hi_us is not None else 2**62,),
        ).fetchone()[0]
        head_row = conn.execute(
            "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if first is None or last is None or first > last:
            first, last = 1, 0  # empty range
        prev = conn.execute("SELECT hash FROM records WHERE seq = ?", (first - 1,)).fetchone()
        header = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "from_seq": first,
            "to_seq": last,
            "prev_hash": (prev[0] if prev else chain.GENESIS).hex(),
        }
        out.write(json.dumps(header) + "\n")
        count = 0
        for r in _records(conn, first - 1, last):
            out.write(json.dumps(_record_line(r), ensure_ascii=False) + "\n")
            count += 1
        proof_from = max(last, first - 1) + 1
        digests: list[str] = []
        for r in _records(conn, proof_from - 1, head_row[0] if head_row else 0):
            digests.append(r.digest().hex())
            if len(digests) >= PROOF_CHUNK:
                out.write(json.dumps({"proof": digests}) + "\n")
                digests = []
        if digests:
            out.write(json.dumps({"proof": digests}) + "\n")
        head = chain.ChainHead(head_row[0], head_row[1]) if head_row else chain.EMPTY_HEAD
        out.write(json.dumps({"head": head.as_dict()}) + "\n")
        return {"records": count, "from_seq": first, "to_seq": last, "head": head.as_dict()}
    finally:
        conn.close()


def _records(conn: sqlite3.Connection, after: int, upto: int) -> Iterator[JournalRecord]:
    while after < upto:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 5000",
            (after, upto),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield from_row(row)
        after = rows[-1][0]


@dataclass
class ExportCheck:
    ok: bool
    records: int = 0
    head: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def verify_export(lines: IO[str]) -> ExportCheck:
    """Check an evidence export on its own: payload hashes, links, proof, head.

    A malformed file is a problem in the report, never an exception.
    """
    try:
        return _verify_export(lines)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return ExportCheck(ok=False, problems=[f"not a well-formed evidence export: {detail}"])


def _verify_export(lines: IO[str]) -> ExportCheck:
    check = ExportCheck(ok=False)
    header: dict[str, Any] | None = None
    prev = b""
    seq = 0
    reached: bytes | None = None
    for n, text in enumerate(lines, 1):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            check.problems.append(f"line {n}: not JSON: {exc.msg}")
            return check
        if header is None:
            if obj.get("format") != EXPORT_FORMAT:
                check.problems.append("line 1: not an anfang-evidence export")
                return check
            header = obj
            prev = bytes.fromhex(obj["prev_hash"])
            seq = obj["from_seq"] - 1
            continue
        if "seq" in obj:
            seq += 1
            if obj["seq"] != seq:
                check.problems.append(f"line {n}: expected seq {seq}, found {obj['seq']}")
                return check
            chash = bytes.fromhex(obj["content_hash"])
            if obj["payload"] is not None and chain.content_hash(obj["payload"].encode()) != chash:
                check.problems.append(f"seq {seq}: payload does not match its content hash")
                return check
            digest = chain.record_digest(
                seq,
                obj["rtype"],
                obj["id"],
                obj["kind"],
                obj["source"],
                obj["phase"],
                obj["priority"],
                obj["ts_us"],
                obj["schema_version"],
                chash,
            )
            prev = chain.link(prev, digest)
            if prev != bytes.fromhex(obj["hash"]):
                check.problems.append(f"seq {seq}: hash does not follow from the previous record")
                return check
            check.records += 1
        elif "proof" in obj:
            for hexdigest in obj["proof"]:
                seq += 1
                prev = chain.link(prev, bytes.fromhex(hexdigest))
        elif "head" in obj:
            head = obj["head"]
            check.head = head
            reached = prev
            if head["seq"] != seq or bytes.fromhex(head["hash"]) != reached:
                check.problems.append(
                    f"the chain reaches seq {seq} hash {reached.hex()[:16]}…, not the head "
                    f"seq {head['seq']} hash {head['hash'][:16]}…"
                )
                return check
    if header is None or check.head is None:
        check.problems.append("export is incomplete (no header or no head line)")
        return check
    expected = max(0, header["to_seq"] - header["from_seq"] + 1)
    if check.records != expected:
        check.problems.append(
            f"the header promises seq {header['from_seq']}..{header['to_seq']} "
            f"({expected} records) but the export holds {check.records}"
        )
        return check
    check.ok = True
    return check
