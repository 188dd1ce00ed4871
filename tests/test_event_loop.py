"""The gateway's event loop: uvloop when installed, asyncio's own when asked or when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import event_loop
from gateway.config import ConfigError, load_config
from gateway.config.loader import LoadedConfig
from gateway.event_loop import EventLoopUnavailable, resolve, run, running_loop_name
from gateway.host.reload import plan_reload
from gateway.sdk.discovery import discover

INSTALLED = discover().classes


async def loop_name() -> str:
    return running_loop_name()


def test_each_choice_runs_on_the_loop_it_names() -> None:
    assert run(loop_name(), "uvloop") == "uvloop"
    assert run(loop_name(), "asyncio") == "asyncio"
    assert run(loop_name()) == "uvloop", "auto takes uvloop when it is installed"


def test_without_uvloop_auto_falls_back_and_uvloop_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(event_loop, "uvloop_installed", lambda: False)
    assert resolve("auto") == "asyncio"
    assert run(loop_name(), "auto") == "asyncio"
    with pytest.raises(EventLoopUnavailable, match="uvloop is not installed"):
        resolve("uvloop")


def config(tmp_path: Path, text: str) -> LoadedConfig:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(f"site: {{id: hq}}\n{text}")
    return load_config(cfg, INSTALLED)


def test_check_refuses_uvloop_where_it_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config(tmp_path, "event_loop: uvloop").gateway.event_loop == "uvloop"
    monkeypatch.setattr(event_loop, "uvloop_installed", lambda: False)
    with pytest.raises(ConfigError) as info:
        config(tmp_path, "event_loop: uvloop")
    [issue] = info.value.issues
    assert issue.path == "event_loop" and "pip install uvloop" in issue.message


def test_a_changed_loop_is_named_as_needing_a_restart(tmp_path: Path) -> None:
    """The loop is made before anything runs on it: a reload cannot change it, and says so."""
    old = config(tmp_path, "event_loop: auto")
    new = config(tmp_path, "event_loop: asyncio")
    assert plan_reload(old, new).needs_restart == ["event_loop"]
    assert plan_reload(old, old).needs_restart == []
