"""Shared fixtures: real directories on the real disk, real subprocesses, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# No per-example deadline: on a shared 2-core CI machine one stall can push a single example past
# Hypothesis's 200 ms and fail a test whose code is fine. Speed is what bench/ measures.
settings.register_profile("anfang", deadline=None)
settings.load_profile("anfang")

TEST_LOOP = os.environ.get("ANFANG_TEST_LOOP", "asyncio")
"""The loop async tests run on: ``uvloop`` runs them on the loop ``anfang run`` picks (the
subprocess tests run there anyway), asyncio's own otherwise."""


if TEST_LOOP == "uvloop":  # defined only then: without the hook, pytest-asyncio's own loop

    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
        from gateway.event_loop import loop_factory

        return {"uvloop": loop_factory("uvloop")}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory for one journal."""
    d = tmp_path / "data"
    d.mkdir()
    return d


def is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path | None]:
    """A 4 MiB tmpfs when the test runs as root (as CI does), else None."""
    if not is_root():
        yield None
        return
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def stop_gracefully(proc: subprocess.Popen[Any], timeout_s: float) -> None:
    """SIGINT (a clean shutdown), then SIGKILL if it has not exited within ``timeout_s``; the
    return code tells which (a killed gateway is -9)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


PYTHON = sys.executable
