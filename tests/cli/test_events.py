"""``anfang events``: JSON lines, filters, times, tombstones and ``--follow``."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from gateway.journal import Journal
from gateway.journal.records import Payload
from gateway.model import Command
from tests.cli.helpers import anfang, anfang_cmd, assert_clean_error, fill, json_lines
from tests.conftest import REPO, python_env
from tests.journal.helpers import ev


def mixed() -> list[Payload]:
    return [
        ev(0, kind="intrusion", source="hq/panel-1/zone-1"),
        ev(1, kind="trouble.ac_loss", source="hq/panel-1/zone-2"),
        ev(2, kind="trouble", source="branch/panel-7/zone-1"),
        ev(3, kind="fire", source="branch/panel-7/zone-2", priority=1),
        Command(target="hq/panel-1/area-1", action="area.arm", issued_by="operator"),
    ]


async def test_lines_are_json_with_seq_and_rtype(data_dir: Path) -> None:
    await fill(data_dir, mixed())
    result = anfang("events", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]  # events only by default
    assert {line["rtype"] for line in lines} == {"event"}
    assert lines[1]["kind"] == "trouble.ac_loss" and lines[1]["data"] == {"n": 1}


async def test_kind_prefix_and_source_glob(data_dir: Path) -> None:
    await fill(data_dir, mixed())
    kinds = json_lines(anfang("events", "--kind", "trouble", "--data-dir", data_dir).stdout)
    assert [line["kind"] for line in kinds] == ["trouble.ac_loss", "trouble"]
    sources = json_lines(anfang("events", "--source", "branch/*", "--data-dir", data_dir).stdout)
    assert [line["seq"] for line in sources] == [3, 4]
    both = anfang("events", "--kind", "trouble", "--source", "branch/*", "--data-dir", data_dir)
    assert [line["seq"] for line in json_lines(both.stdout)] == [3]
    urgent = anfang("events", "--max-priority", "1", "--data-dir", data_dir)
    assert [line["kind"] for line in json_lines(urgent.stdout)] == ["fire"]


async def test_type_and_limit(data_dir: Path) -> None:
    await fill(data_dir, mixed())
    commands = json_lines(anfang("events", "--type", "command", "--data-dir", data_dir).stdout)
    assert [(c["seq"], c["rtype"], c["action"]) for c in commands] == [(5, "command", "area.arm")]
    everything = anfang("events", "--type", "event", "command", "--data-dir", data_dir)
    assert len(json_lines(everything.stdout)) == 5
    limited = json_lines(anfang("events", "--limit", "2", "--data-dir", data_dir).stdout)
    assert [line["seq"] for line in limited] == [1, 2]


async def test_since_relative_and_iso(data_dir: Path) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=3)
    await fill(data_dir, [ev(0, received_at=old), ev(1, received_at=now), ev(2, received_at=now)])
    recent = json_lines(anfang("events", "--since", "2h", "--data-dir", data_dir).stdout)
    assert [line["seq"] for line in recent] == [2, 3]
    iso = (old + timedelta(hours=1)).replace(tzinfo=None).isoformat()  # naive means UTC
    until = json_lines(anfang("events", "--until", iso, "--data-dir", data_dir).stdout)
    assert [line["seq"] for line in until] == [1]


async def test_pruned_record_is_a_tombstone_line(data_dir: Path) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    async with await Journal.open(data_dir) as j:
        await j.append(ev(0, received_at=old))
        await j.append(ev(1))
        assert (await j.prune()).pruned == 1
    lines = json_lines(anfang("events", "--data-dir", data_dir).stdout)
    assert lines[0] == {
        "seq": 1,
        "rtype": "event",
        "id": lines[0]["id"],
        "kind": "intrusion",
        "pruned": True,
    }
    assert lines[1]["seq"] == 2 and "pruned" not in lines[1]


async def test_many_records_stream_in_pages(data_dir: Path) -> None:
    await fill(data_dir, [ev(i) for i in range(2500)])
    lines = json_lines(anfang("events", "--data-dir", data_dir).stdout)
    assert [line["seq"] for line in lines] == list(range(1, 2501))


def test_missing_data_dir_is_one_error_line(tmp_path: Path) -> None:
    result = anfang("events", "--data-dir", tmp_path / "nowhere")
    assert_clean_error(result, 1)
    assert result.stderr.startswith("anfang: error: no journal at")
    assert result.stdout == ""


def test_bad_since_exits_2_with_a_specific_message(tmp_path: Path) -> None:
    result = anfang("events", "--since", "yesterday", "--data-dir", tmp_path)
    assert_clean_error(result, 2)
    assert "argument --since: invalid time 'yesterday'" in result.stderr


def test_since_after_until_exits_2(tmp_path: Path) -> None:
    result = anfang("events", "--since", "1h", "--until", "2h", "--data-dir", tmp_path)
    assert_clean_error(result, 2)
    assert "is after --until" in result.stderr


def _reader(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


async def test_follow_prints_records_appended_later(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        await j.append(ev(0))
        proc = subprocess.Popen(
            anfang_cmd("events", "--follow", "--kind", "intrusion", "--data-dir", data_dir),
            cwd=REPO,
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Python turns SIGINT into KeyboardInterrupt only if it was not ignored at start.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
            assert json_lines(lines.get(timeout=30))[0]["seq"] == 1
            await j.append(ev(1, kind="fire"))  # filtered out
            await j.append(ev(2))
            followed = json_lines(lines.get(timeout=30))[0]
            assert (followed["seq"], followed["data"]) == (3, {"n": 2})
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
            assert proc.stderr.read() == ""  # quietly: no traceback
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
