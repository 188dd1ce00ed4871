"""A bad bridge config is refused by the loader with the key path of each problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.config.errors import ConfigError
from gateway.config.loader import load_config
from tests.plugins.receiver_line.helpers import installed, write_config


def errors_for(tmp_path: Path, config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, config), installed().classes)
    return str(err.value)


def test_bad_settings_name_their_key(tmp_path: Path) -> None:
    text = errors_for(
        tmp_path,
        {
            "transport": "modem",
            "baudrate": 12,
            "receiver": {"heartbeat_s": 0},
            "accounts": [{"account": "12"}],
        },
    )
    assert "plugins[0].config.transport" in text
    assert "plugins[0].config.baudrate" in text
    assert "plugins[0].config.receiver.heartbeat_s" in text
    assert "plugins[0].config.accounts[0].account" in text


def test_combinations_that_cannot_work_are_refused(tmp_path: Path) -> None:
    assert "transport serial needs serial_port" in errors_for(tmp_path, {"transport": "serial"})
    text = errors_for(
        tmp_path,
        {"transport": "tcp_server", "accounts": [{"account": "1234"}, {"account": "1234"}]},
    )
    assert "plugins[0].config" in text and "accounts[1].account: 1234 is configured twice" in text
    assert "plugins[0].config.hearbeat_s" in errors_for(
        tmp_path, {"transport": "tcp_server", "hearbeat_s": 30}
    )
