"""The SQLite file behind the journal: opening it safely, its schema, its pragmas.

Tables are documented in ``docs/journal.md``. The file is marked with an application id so a
foreign SQLite file is refused instead of being written into.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import time
from pathlib import Path

from gateway.journal.errors import (
    CorruptDatabaseError,
    ForeignDatabaseError,
    JournalLockedError,
    JournalOpenError,
)

DB_NAME = "journal.sqlite3"
APPLICATION_ID = 0x416E6667  # "Anfg"
STORE_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq            INTEGER PRIMARY KEY,
    rtype          TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    phase          TEXT    NOT NULL,
    priority       INTEGER NOT NULL,
    ts_us          INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        BLOB,
    content_hash   BLOB    NOT NULL,
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS records_ts ON records (ts_us);
CREATE INDEX IF NOT EXISTS records_id ON records (id);
CREATE TABLE IF NOT EXISTS cursors (
    name       TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

INSERT_RECORD = (
    "INSERT INTO records (seq, rtype, id, kind, source, phase, priority, ts_us, "
    "schema_version, payload, content_hash, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
MAX_ROWS_PER_INSERT = 512
"""Rows per multi-row INSERT (13 values each, well under SQLite's 32,766 parameters)."""


ROWS_IN_ONE_STATEMENT = 64
"""Batches up to this size are inserted by one statement of their exact size (so up to 64
distinct statements stay prepared); larger ones in power-of-two chunks."""


@functools.lru_cache(maxsize=128)
def insert_records(rows: int) -> str:
    """One INSERT for ``rows`` records, instead of one step per row: sqlite3 gives the GIL up
    around every step, and with the event loop busy each step then waited its turn to get it
    back — a 20-record commit took 5 ms instead of 1."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return INSERT_RECORD.split("VALUES", 1)[0] + "VALUES " + values


@functools.lru_cache(maxsize=32)
def upsert_cursors(count: int) -> str:
    """Save ``count`` consumer positions in one statement (never moving one backwards)."""
    values = ", ".join(["(?, ?, ?)"] * count)
    return (
        f"INSERT INTO cursors (name, seq, updated_us) VALUES {values} "
        "ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, updated_us = excluded.updated_us "
        "WHERE excluded.seq >= cursors.seq"
    )


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data directory (mode 0700) and prove it is writable."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalOpenError(f"cannot create data directory {data_dir}: {exc.strerror}") from exc
    if not data_dir.is_dir():
        raise JournalOpenError(f"data directory {data_dir} exists but is not a directory")
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise JournalOpenError(
            f"data directory {data_dir} is not writable by this user (uid {os.getuid()}); "
            "fix its permissions or choose another with --data-dir"
        )
    return data_dir


class DirectoryLock:
    """An exclusive ``flock`` on ``journal.lock``: one writing process per journal."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "journal.lock"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise JournalLockedError(
                f"journal in {data_dir} is already open for writing by another process "
                f"(pid {holder}); stop it first, or use a different --data-dir"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


WRITER_LOCK = "journal.writer.lock"


def hold_writer_lock(data_dir: Path) -> int:
    """Take the lock a writer process holds for its whole life (the descriptor; it is released
    when the process ends). The gateway's own lock is released if the gateway dies, while its
    writer process may still be committing what it had received: this one is not."""
    fd = os.open(data_dir / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalLockedError(
            f"a journal writer process of an earlier run still has {data_dir} open"
        ) from None
    return fd


def wait_for_old_writer(data_dir: Path, timeout_s: float) -> None:
    """Wait until no writer process of an earlier run (one whose gateway died) is still
    committing: it ends by itself once it has written what it had received."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fd = hold_writer_lock(data_dir)
        except JournalLockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
            continue
        os.close(fd)
        return


def check_file(db_path: Path) -> None:
    """Refuse a file that exists but is not a SQLite database."""
    try:
        with db_path.open("rb") as fh:
            header = fh.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise JournalOpenError(f"cannot read {db_path}: {exc.strerror}") from exc
    if header and header != SQLITE_HEADER:
        raise CorruptDatabaseError(
            f"{db_path} is not a SQLite database (its header is {header[:16]!r}); it may be "
            "corrupt or a different file. Move it aside; restore from a backup if you have one"
        )


def connect(db_path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the journal's pragmas; read-only ones never create the file."""
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{db_path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only = 1")
        else:
            conn = sqlite3.connect(
                db_path, isolation_level=None, check_same_thread=False, cached_statements=256
            )
        conn.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(f"cannot open {db_path}: {exc}") from exc
    return conn


def check_identity(conn: sqlite3.Connection, db_path: Path) -> bool:
    """True when the file is an empty database to initialise; raise when it is foreign."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(f"{db_path} is damaged or not a database: {exc}") from exc
    if app_id == 0 and tables == 0:
        return True
    if app_id != APPLICATION_ID:
        raise ForeignDatabaseError(
            f"{db_path} is a SQLite database but not an Anfang journal "
            f"(application_id {app_id:#x}, {tables} tables); refusing to write into it"
        )
    if version > STORE_VERSION:
        raise ForeignDatabaseError(
            f"{db_path} was written by a newer Anfang (store version {version}, this one "
            f"reads up to {STORE_VERSION}); upgrade Anfang or use another --data-dir"
        )
    return False


def open_writer(db_path: Path) -> sqlite3.Connection:
    """The single writing connection: WAL, ``synchronous=FULL``, schema created if new."""
    check_file(db_path)
    conn = connect(db_path)
    try:
        fresh = check_identity(conn, db_path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise JournalOpenError(f"{db_path}: could not switch to WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        # Checkpoints run on their own thread (checkpointer.py), never inside a commit.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        if fresh:
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {STORE_VERSION}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CorruptDatabaseError(f"{db_path} is damaged or not a database: {exc}") from exc
    except JournalOpenError:
        conn.close()
        raise
    return conn


def open_reader(db_path: Path) -> sqlite3.Connection:
    """A read-only connection (for the CLI, verification and lagging consumers)."""
    if not db_path.exists():
        raise JournalOpenError(
            f"no journal at {db_path}: run 'anfang run' first or check --data-dir"
        )
    check_file(db_path)
    conn = connect(db_path, readonly=True)
    try:
        check_identity(conn, db_path)
    except JournalOpenError:
        conn.close()
        raise
    return conn
