"""The hash chain and its anchor file.

Each record's ``content_hash`` is SHA-256 of its payload bytes; its *digest* binds the seq and
every header column to that content hash; its ``hash`` is SHA-256(prev_hash ‖ digest). Pruning
drops a payload but keeps content_hash, so a tombstone still links. The newest hash is appended
to the anchor file beside the database after each commit, so cutting records off the end of the
database is detected too (the anchor can lag the database after a crash, never lead it).
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

GENESIS = bytes(32)
"""The ``prev_hash`` of record 1."""

ANCHOR_ROTATE_BYTES = 64 * 1024
"""Anchor files are rewritten to their last line past this size: one line per commit adds up."""


def content_hash(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


def record_digest(
    seq: int,
    rtype: str,
    record_id: str,
    kind: str,
    source: str,
    phase: str,
    priority: int,
    ts_us: int,
    schema_version: int,
    chash: bytes,
) -> bytes:
    """SHA-256 over the seq, every header column and the content hash."""
    header = "\x1f".join(
        (rtype, record_id, kind, source, phase, str(priority), str(ts_us), str(schema_version))
    ).encode()
    return hashlib.sha256(struct.pack(">Q", seq) + header + b"\x1e" + chash).digest()


def link(prev_hash: bytes, digest: bytes) -> bytes:
    return hashlib.sha256(prev_hash + digest).digest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest committed record: what a platform keeps an outside copy of."""

    seq: int
    hash: bytes

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    def as_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash.hex()}


EMPTY_HEAD = ChainHead(0, GENESIS)


def anchor_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".anchor")


class AnchorWriter:
    """Appends ``seq hash unix_time`` lines; rotates to the last line when the file grows.

    No fsync per line: the database commit already is durable, and an anchor that lags after a
    crash is harmless (verification only fails when the anchor is *ahead* of the database).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        self._size = os.fstat(self._fd).st_size
        # A crash (or a short write on a full disk) can leave a torn last line; the next line
        # must start on a fresh one, or the two would read as one wrong head.
        self._torn = self._size > 0 and os.pread(self._fd, 1, self._size - 1) != b"\n"

    def write(self, head: ChainHead) -> None:
        line = f"{head.seq} {head.hash.hex()} {time.time():.3f}\n".encode()
        data = b"\n" + line if self._torn else line
        self._torn = True  # until the whole line is out
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        self._torn = False
        self._size += len(data)
        if self._size > ANCHOR_ROTATE_BYTES:
            self._rotate(line)

    def _rotate(self, last_line: bytes) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, last_line)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        old, self._fd = self._fd, -1
        os.close(old)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND, 0o600)
        self._size = len(last_line)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_anchor(path: Path) -> list[ChainHead]:
    """Every complete line of an anchor file (a torn last line is ignored); [] if absent."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    heads: list[ChainHead] = []
    for raw in data.split(b"\n")[:-1]:
        parts = raw.split()
        if len(parts) < 2:
            continue
        try:
            seq, digest = int(parts[0]), bytes.fromhex(parts[1].decode())
        except ValueError:
            continue
        if seq > 0 and len(digest) == 32:
            heads.append(ChainHead(seq, digest))
    return heads
