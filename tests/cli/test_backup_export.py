"""``anfang backup`` and ``anfang export``: copies and evidence that verify on their own."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.journal import verify_journal
from tests.cli.helpers import anfang, assert_clean_error, fill


async def test_backup_verifies_on_its_own(data_dir: Path, tmp_path: Path) -> None:
    await fill(data_dir)
    dest = tmp_path / "backups" / "monday"
    result = anfang("backup", dest, "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"backup of seq 20 written to {dest}"
    check = anfang("verify", "--data-dir", dest)
    assert check.returncode == 0, check.stdout
    assert verify_journal(dest).head == verify_journal(data_dir).head


async def test_backup_refuses_an_existing_destination(data_dir: Path, tmp_path: Path) -> None:
    await fill(data_dir)
    dest = tmp_path / "bk"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    result = anfang("backup", dest, "--data-dir", data_dir)
    assert_clean_error(result, 1)
    assert "already exists" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_failed_backup_leaves_no_directory(tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    result = anfang("backup", dest, "--data-dir", tmp_path / "no-journal")
    assert_clean_error(result, 1)
    assert not dest.exists()


async def test_export_verifies_and_detects_an_edit(data_dir: Path, tmp_path: Path) -> None:
    await fill(data_dir)
    out = tmp_path / "evidence.jsonl"
    result = anfang("export", "--since", "1h", "-o", out, "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("exported 20 record(s) (seq 1..20)")

    head = verify_journal(data_dir).head
    check = anfang("verify", "--export", out)
    assert check.returncode == 0, check.stdout
    assert f"head:       seq 20 hash {head.hash_hex}" in check.stdout

    lines = out.read_text().splitlines()
    record = json.loads(lines[5])
    record["payload"] = record["payload"].replace('"n":', '"n":1')
    lines[5] = json.dumps(record)
    out.write_text("\n".join(lines) + "\n")
    check = anfang("verify", "--export", out)
    assert check.returncode == 1
    assert "seq 5: payload does not match its content hash" in check.stdout


async def test_export_to_stdout_and_json_check(data_dir: Path) -> None:
    await fill(data_dir)
    result = anfang("export", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["format"] == "anfang-evidence"
    check = anfang("verify", "--export", "-", "--json", stdin=result.stdout)
    assert check.returncode == 0
    report = json.loads(check.stdout)
    assert report["ok"] is True and report["records"] == 20
    assert report["head"] == verify_journal(data_dir).head.as_dict()


def test_export_check_of_a_malformed_file_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "anfang-evidence"}\n')
    result = anfang("verify", "--export", bad)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "not a well-formed evidence export" in result.stdout


async def test_export_refuses_to_overwrite(data_dir: Path, tmp_path: Path) -> None:
    await fill(data_dir)
    out = tmp_path / "evidence.jsonl"
    out.write_text("earlier evidence\n")
    result = anfang("export", "-o", out, "--data-dir", data_dir)
    assert_clean_error(result, 1)
    assert out.read_text() == "earlier evidence\n"
