"""Opening bad places and bad files gives a specific error, never a traceback or a write."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from gateway.journal import (
    CorruptDatabaseError,
    ForeignDatabaseError,
    Journal,
    JournalLockedError,
    JournalOpenError,
)
from tests.conftest import PYTHON, REPO, is_root, python_env


async def test_file_that_is_not_sqlite(data_dir: Path) -> None:
    (data_dir / "journal.sqlite3").write_bytes(b"PK\x03\x04 this is a zip file" * 10)
    with pytest.raises(CorruptDatabaseError, match="not a SQLite database"):
        await Journal.open(data_dir)


async def test_truncated_sqlite_file(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        await j.run_on_writer(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    db = data_dir / "journal.sqlite3"
    db.write_bytes(db.read_bytes()[:100] + b"\x00garbage" * 100)
    with pytest.raises(CorruptDatabaseError):
        await Journal.open(data_dir)


async def test_foreign_sqlite_database(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "journal.sqlite3")
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ForeignDatabaseError, match="not an Anfang journal"):
        await Journal.open(data_dir)
    conn = sqlite3.connect(data_dir / "journal.sqlite3")
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]


async def test_journal_from_a_newer_version(data_dir: Path) -> None:
    async with await Journal.open(data_dir):
        pass
    conn = sqlite3.connect(data_dir / "journal.sqlite3")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ForeignDatabaseError, match="newer Anfang"):
        await Journal.open(data_dir)


async def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(JournalOpenError, match="not a directory|cannot create"):
        await Journal.open(f)


async def test_unwritable_data_dir(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    if is_root():  # root ignores modes: make it a read-only mount instead
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], check=True
        )
    else:
        target.chmod(0o500)
    try:
        with pytest.raises(JournalOpenError, match="not writable"):
            await Journal.open(target)
    finally:
        if is_root():
            subprocess.run(["umount", "-l", str(target)], check=False)
        else:
            target.chmod(0o700)


async def test_second_writer_process_is_refused(data_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            PYTHON,
            "-c",
            "import asyncio,sys\nfrom pathlib import Path\nfrom gateway.journal import Journal\n"
            "async def m():\n j=await Journal.open(Path(sys.argv[1]))\n print('open',flush=True)\n"
            " await asyncio.sleep(30)\nasyncio.run(m())",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(JournalLockedError, match=f"pid {holder.pid}"):
            await Journal.open(data_dir)
    finally:
        holder.kill()
        holder.wait()
    async with await Journal.open(data_dir):  # the lock goes with the process
        pass
