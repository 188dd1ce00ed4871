"""Broken configs: each problem is reported with its key path, all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.errors import ConfigIssue
from gateway.sdk.discovery import discover

INSTALLED = discover().classes


def issues_of(tmp_path: Path, text: str) -> list[ConfigIssue]:
    """The problems ``load_config`` finds in ``text`` (it must find some)."""
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(cfg, INSTALLED)
    return info.value.issues


GOOD = """
site: {id: hq}
areas: [{name: lobby}]
plugins:
  - {id: demo, plugin: demo, config: {interval_s: 1}}
"""

BROKEN = [
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: nope}]",
        "plugins[0].plugin",
        "unknown plugin 'nope'",
    ),
    (  # what to do about it: a plugin is installed, not merely put on the path
        "site: {id: hq}\nplugins: [{id: a, plugin: nope}]",
        "plugins[0].plugin",
        "'anfang.plugins' entry point: install it into this Python",
    ),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo, config: {interval_s: fast}}]",
        "plugins[0].config.interval_s",
        "valid number",
    ),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo, config: {interval_s: -1}}]",
        "plugins[0].config.interval_s",
        "greater than 0",
    ),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo, config: {colour: red}}]",
        "plugins[0].config.colour",
        "unknown key",
    ),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo}, {id: a, plugin: demo}]",
        "plugins[1].id",
        "duplicate instance id 'a'",
    ),
    ("site: {id: hq}\nplugins: [{id: A!, plugin: demo}]", "plugins[0].id", "pattern"),
    ("site: {id: hq}\nplugins: [{plugin: demo}]", "plugins[0].id", "required key is missing"),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo, isolation: thread}]",
        "plugins[0].isolation",
        "'inline' or 'process'",
    ),
    ("plugins: []", "site", "required key is missing"),
    ("site: {id: hq, timezone: Mars/Olympus}", "site.timezone", "unknown time zone"),
    ("site: {id: hq, gb_prefix: '34'}", "site.gb_prefix", "pattern"),
    ("site: {id: hq}\ndevices: [{address: other/cam-1}]", "devices[0].address", "not in site 'hq'"),
    (
        "site: {id: hq}\ndevices: [{address: hq/cam-1, area: vault}]",
        "devices[0].area",
        "unknown area 'vault'",
    ),
    (
        "site: {id: hq}\ndevices: [{address: hq/a, gb_code: '34020000001320000001'},"
        " {address: hq/b, gb_code: '34020000001320000001'}]",
        "devices[1].gb_code",
        "also pinned",
    ),
    (
        "site: {id: hq}\njournal: {retention: {kinds: {access.granted: 30}}}",
        "journal.retention.kinds",
        "at least 180 days",
    ),
    ("site: {id: hq}\nsirens: 3", "sirens", "unknown key"),
    ("site: {id: hq}\nevent_loop: trio", "event_loop", "'auto', 'uvloop' or 'asyncio'"),
    (
        "site: {id: hq}\nplugins: [{id: a, plugin: demo, config: {seed: '${NO_SUCH_VAR_X}'}}]",
        "plugins[0].config.seed",
        "NO_SUCH_VAR_X is not set",
    ),
]


@pytest.mark.parametrize(("text", "path", "message"), BROKEN)
def test_each_bad_key_is_reported_with_its_path(
    tmp_path: Path, text: str, path: str, message: str
) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(cfg, INSTALLED)
    rendered = [str(i) for i in info.value.issues]
    assert any(i.path == path and message in i.message for i in info.value.issues), rendered


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\nplugins: [{id: a, plugin: nope}, {id: b, plugin: demo, "
        "config: {interval_s: 0}}]\ndevices: [{address: hq/x, area: nowhere}]"
    )
    with pytest.raises(ConfigError) as info:
        load_config(cfg, INSTALLED)
    assert {i.path for i in info.value.issues} == {
        "plugins[0].plugin",
        "plugins[1].config.interval_s",
        "devices[0].area",
    }


def test_plugin_settings_are_checked_even_when_the_gateway_keys_are_wrong(
    tmp_path: Path,
) -> None:
    """A typo in ``api:`` used to hide every plugin mistake until it was fixed."""
    issues = issues_of(
        tmp_path,
        "site: {id: hq}\napi: {prot: 1}\n"
        "plugins: [{id: rx, plugin: sia_dc09, config: {tcp-port: 12300}}]\n",
    )
    paths = {i.path for i in issues}
    assert {"api.prot", "plugins[0].config.tcp-port"} <= paths, paths


def test_two_instances_on_one_port_are_refused_before_they_fail_to_start(
    tmp_path: Path,
) -> None:
    """The config is only validated, never started: nothing listens, on 0.0.0.0 or anywhere
    (the wildcard host is here because it clashes with every address of the port)."""
    issues = issues_of(
        tmp_path,
        "site: {id: hq}\napi: {port: 12301}\nplugins:\n"
        "  - {id: rx1, plugin: sia_dc09, config: {tcp_port: 12300}}\n"
        "  - {id: rx2, plugin: sia_dc09, config: {host: 0.0.0.0, tcp_port: 12300}}\n"
        "  - {id: rx3, plugin: sia_dc09, config: {tcp_port: 0, udp_port: 12300}}\n"
        "  - {id: arc, plugin: receiver_line, config: {transport: tcp_server, port: 12301}}\n"
        "  - {id: spare, plugin: sia_dc09, enabled: false, config: {tcp_port: 12300}}\n",
    )
    clashes = [str(i) for i in issues]
    assert len(clashes) == 2, clashes
    assert clashes[0].startswith("plugins[1].config: TCP port 12300 on 0.0.0.0 is already taken")
    assert "plugins[0] (rx1)" in clashes[0]
    assert clashes[1].startswith("plugins[3].config: TCP port 12301") and "api.port" in clashes[1]


def test_a_bad_receiver_key_is_reported_at_the_key(tmp_path: Path) -> None:
    found = issues_of(
        tmp_path,
        "site: {id: hq}\nplugins: [{id: rx, plugin: sia_dc09, config: {tcp_port: 0, accounts: "
        "[{account: '5678', key_hex: zz}, {account: '9ABC', key_ascii: short}]}}]\n",
    )
    issues = {i.path: i.message for i in found}
    assert set(issues) == {
        "plugins[0].config.accounts[0].key_hex",
        "plugins[0].config.accounts[1].key_ascii",
    }, issues
    assert "hex" in issues["plugins[0].config.accounts[0].key_hex"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text("site:\n  id: hq\n plugins: [\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_config(cfg, INSTALLED)


def test_env_substitution_and_good_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SEED", "42")
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(GOOD.replace("interval_s: 1", "interval_s: 1, seed: '${DEMO_SEED}'"))
    loaded = load_config(cfg, INSTALLED)
    assert loaded.plugin_configs["demo"].seed == 42  # type: ignore[attr-defined]
    assert "42" in loaded.secrets


def test_packaged_demo_config_is_valid() -> None:
    loaded = load_config(None, INSTALLED)
    assert loaded.gateway.site.id == "branch-01"


def test_a_missing_environment_variable_is_one_problem_not_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The empty value standing in for the variable used to draw a second, misleading error
    at the same key ("an AES key is 16, 24 or 32 bytes ... got 0"); other keys still speak."""
    monkeypatch.delenv("NO_SUCH_KEY_X", raising=False)
    issues = issues_of(
        tmp_path,
        "site: {id: hq}\nplugins: [{id: rx, plugin: sia_dc09, config: {tcp_port: 0, "
        "accounts: [{account: '1234', key_hex: '${NO_SUCH_KEY_X}'}, "
        "{account: '5678', key_hex: 'abc'}]}}]\n",
    )
    assert [(i.path, i.message) for i in issues if "accounts[0]" in i.path] == [
        ("plugins[0].config.accounts[0].key_hex", "environment variable NO_SUCH_KEY_X is not set")
    ]
    assert any(i.path == "plugins[0].config.accounts[1].key_hex" for i in issues)


def test_a_missing_variable_in_a_gateway_key_is_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_PORT_X", raising=False)
    issues = issues_of(tmp_path, "site: {id: hq}\napi: {port: '${NO_SUCH_PORT_X}'}\n")
    assert [(i.path, i.message) for i in issues] == [
        ("api.port", "environment variable NO_SUCH_PORT_X is not set")
    ]
