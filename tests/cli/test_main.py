"""The entry point itself: version, help, the data directory, schemas."""

from __future__ import annotations

import json
from pathlib import Path

from gateway import __version__
from gateway.model.docgen import SCHEMA_MODELS
from tests.cli.helpers import anfang, assert_clean_error, fill


def test_version() -> None:
    result = anfang("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"anfang {__version__}"


def test_no_command_prints_help_and_exits_2() -> None:
    result = anfang()
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: anfang" in result.stderr and "verify" in result.stderr


def test_default_data_dir_follows_xdg_data_home(tmp_path: Path) -> None:
    result = anfang("events", env={"XDG_DATA_HOME": str(tmp_path)})
    assert_clean_error(result, 1)
    assert str(tmp_path / "anfang" / "journal.sqlite3") in result.stderr


async def test_data_dir_before_or_after_the_command(data_dir: Path, tmp_path: Path) -> None:
    await fill(data_dir)
    assert anfang("--data-dir", data_dir, "verify").returncode == 0
    assert anfang("verify", "--data-dir", data_dir).returncode == 0
    # The option after the command is the more specific one, so it wins.
    result = anfang("--data-dir", tmp_path / "elsewhere", "verify", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert anfang("--data-dir", data_dir, "verify", "--data-dir", tmp_path / "x").returncode == 1


def test_schema_event_is_json_with_schema_version() -> None:
    result = anfang("schema", "event")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "schema_version" in schema["properties"]
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_schema_without_name_lists_the_names() -> None:
    result = anfang("schema")
    assert result.returncode == 0
    assert result.stdout.split() == list(SCHEMA_MODELS)


def test_unknown_schema_exits_2_with_the_list() -> None:
    result = anfang("schema", "evnt")
    assert_clean_error(result, 2)
    assert "event, command" in result.stderr
