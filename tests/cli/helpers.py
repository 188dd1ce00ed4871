"""Running the real ``anfang`` command as a subprocess, and journals for it to read."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.journal import Journal
from gateway.journal.records import Payload
from tests.conftest import PYTHON, REPO, python_env
from tests.journal.helpers import ev


def anfang_cmd(*args: str | Path) -> list[str]:
    return [PYTHON, "-m", "gateway.cli", *(str(a) for a in args)]


def anfang(
    *args: str | Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``anfang ARGS`` to completion, capturing stdout and stderr."""
    return subprocess.run(
        anfang_cmd(*args),
        cwd=REPO,
        env={**python_env(), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def fill(data_dir: Path, records: Iterable[Payload] | None = None) -> None:
    """A closed journal holding ``records`` (20 intrusion events by default)."""
    async with await Journal.open(data_dir) as j:
        for record in records if records is not None else (ev(i) for i in range(20)):
            await j.append(record)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int) -> None:
    """One ``anfang: error:`` line or argparse's usage error; never a traceback."""
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr
