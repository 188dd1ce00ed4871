"""``anfang verify``: intact journals pass, tampered ones fail with the record named."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.journal import verify_journal
from tests.cli.helpers import anfang, assert_clean_error, fill
from tests.journal.helpers import raw_db


def tamper_payload(data_dir: Path, seq: int) -> None:
    """Change an event's priority in SQL, the way someone with the file would."""
    db = raw_db(data_dir)
    payload = db.execute("SELECT payload FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    db.execute(
        "UPDATE records SET payload = ? WHERE seq = ?",
        (payload.replace(b'"priority":2', b'"priority":4'), seq),
    )
    db.close()


async def test_intact_journal_exits_0(data_dir: Path) -> None:
    await fill(data_dir)
    result = anfang("verify", "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "records:    20 (0 tombstones)" in result.stdout
    head = verify_journal(data_dir).head
    assert f"head:       seq 20 hash {head.hash_hex[:16]}" in result.stdout
    assert "result:     intact" in result.stdout


async def test_altered_payload_exits_1_naming_the_record(data_dir: Path) -> None:
    await fill(data_dir)
    tamper_payload(data_dir, 7)
    result = anfang("verify", "--data-dir", data_dir)
    assert result.returncode == 1
    assert "NOT INTACT" in result.stdout
    assert "seq 7: altered: payload does not match its content hash" in result.stdout
    assert result.stderr == ""


async def test_json_report(data_dir: Path) -> None:
    await fill(data_dir)
    result = anfang("verify", "--json", "--data-dir", data_dir)
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["records"] == 20
    assert report["head"] == verify_journal(data_dir).head.as_dict()
    assert report["anchor"]["seq"] == 20

    tamper_payload(data_dir, 3)
    report = json.loads(anfang("verify", "--json", "--data-dir", data_dir).stdout)
    assert report["ok"] is False
    assert (report["problems"][0]["seq"], report["problems"][0]["kind"]) == (3, "altered")


def test_missing_journal_is_one_error_line(tmp_path: Path) -> None:
    result = anfang("verify", "--data-dir", tmp_path / "missing")
    assert_clean_error(result, 1)
    assert result.stderr.startswith("anfang: error: no journal at")
    assert result.stderr.count("\n") == 1


def test_file_that_is_not_a_journal_is_one_error_line(data_dir: Path) -> None:
    (data_dir / "journal.sqlite3").write_bytes(b"not a database at all" * 10)
    result = anfang("verify", "--data-dir", data_dir)
    assert_clean_error(result, 1)
    assert "not a SQLite database" in result.stderr
