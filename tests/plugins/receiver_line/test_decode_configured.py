"""``anfang decode receiver-line -c anfang.yaml``: a captured line addressed as the configured
bridge addresses it (the real CLI, lines on stdin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.helpers import anfang, json_lines

CONFIG = """site: {id: hq}
plugins:
  - id: bridge
    plugin: receiver_line
    config:
      transport: tcp_server
      port: 0
      receiver: {name: sg-north}
      accounts:
        - {account: "1234", site: branch-7}
"""
PANIC = "5011 181234E12101001"  # account 1234, E121 duress
OWN = "001000[#0000|NRU0000]"  # the receiver's own line
STRANGER = "5011 189876E13001004"  # account 9876, configured nowhere


def decode(config: Path, *lines: str, plain: bool = False) -> list[dict[str, Any]]:
    args = ("decode", "receiver-line") + (() if plain else ("-c", str(config)))
    result = anfang(*args, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_lines_are_addressed_as_the_bridge_addresses_them(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    panic, own, stranger = decode(config, PANIC, OWN, STRANGER)
    assert (panic["message"]["device"], panic["message"]["answer"]) == ("branch-7/acct-1234", "ACK")
    assert [(e["kind"], e["source"]) for e in panic["events"]] == [
        ("panic.duress", "branch-7/acct-1234")
    ]
    assert own["events"][0]["source"] == "hq/sg-north"
    assert stranger["message"]["account_known"] is False
    assert stranger["events"][0]["source"] == "hq/unknown-9876/zone-4"

    panic, own, stranger = decode(config, PANIC, OWN, STRANGER, plain=True)
    assert panic["events"][0]["source"] == "site/acct-1234"  # the default rule, no config
    assert own["events"][0]["source"] == "site/receiver"
    assert stranger["events"][0]["source"] == "site/acct-9876/zone-4"


def test_strict_mode_says_the_bridge_would_nak(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG.replace("port: 0", "port: 0\n      strict: true"))
    panic, stranger = decode(config, PANIC, STRANGER)
    assert panic["message"]["answer"] == "ACK" and panic["events"]
    assert stranger["message"]["answer"] == "NAK: unknown account (strict)"
    assert stranger["events"] == []
