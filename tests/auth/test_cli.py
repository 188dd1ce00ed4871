"""``anfang users``: the parser and actions of ``cmd_users``, on a real data directory.

The actions run in-process (``main`` registers the module separately); the last test runs the
real ``anfang users`` once ``main`` lists the command.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.auth import AuthStore, Principal, Role
from gateway.cli import cmd_users
from gateway.cli.common import CommandError
from gateway.registry.statedb import StateDB
from tests.auth.helpers import OTHER_STRONG, STRONG
from tests.cli.helpers import anfang, assert_clean_error


def parse(*argv: str | Path) -> argparse.Namespace:
    """What ``anfang`` would hand the command: ``--data-dir`` set like ``main`` sets it."""
    parser = argparse.ArgumentParser(prog="anfang")
    parser.add_argument("--data-dir", type=Path, default=None)
    cmd_users.register(parser.add_subparsers())
    return parser.parse_args([str(a) for a in argv])


class Users:
    """Runs ``anfang users ...`` in-process against one data directory."""

    def __init__(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data_dir = data_dir
        self.monkeypatch = monkeypatch
        self.logs: list[MutableMapping[str, Any]] = []
        """Log events, kept apart from stdout (``main`` sends them to stderr)."""

    def __call__(self, *argv: str, stdin: str = "") -> int:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        args = parse("users", *argv, "--data-dir", self.data_dir)
        with structlog.testing.capture_logs() as logs:
            try:
                return int(args.func(args))
            finally:
                self.logs += logs

    def store(self) -> tuple[AuthStore, StateDB]:
        state = StateDB(self.data_dir / "state.sqlite3")
        return AuthStore(state), state


@pytest.fixture
def users(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Users:
    return Users(data_dir, monkeypatch)


def login(users: Users, name: str, password: str) -> Principal:
    store, state = users.store()
    try:
        return store.login(name, password)
    finally:
        state.close()


def listing(users: Users, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert users("list", "--json") == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_add_then_log_in(users: Users, capsys: pytest.CaptureFixture[str]) -> None:
    assert users("add", "alice", "--role", "operator", "--password-stdin", stdin=STRONG + "\n") == 0
    assert "user alice added" in capsys.readouterr().err
    assert login(users, "alice", STRONG) == Principal("alice", Role.OPERATOR, "password")
    assert [e["event"] for e in users.logs] == ["user added"]
    assert STRONG not in json.dumps(users.logs)


def test_add_creates_the_data_directory_private(tmp_path: Path, monkeypatch: Any) -> None:
    users = Users(tmp_path / "fresh", monkeypatch)
    users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    assert (tmp_path / "fresh").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "shorter than 8"),
        ("no-digits-here", "no digit"),
        ("12345678901", "no letter"),
        ("alice-2024-x", "contains the user name"),
        ("password1", "too easy to guess"),
    ],
)
def test_weak_password_is_one_line_and_exit_2(users: Users, password: str, reason: str) -> None:
    with pytest.raises(CommandError) as refused:
        users("add", "alice", "--role", "admin", "--password-stdin", stdin=password)
    assert refused.value.code == 2
    assert str(refused.value).startswith("password refused: ")
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_bad_names_and_missing_input(users: Users) -> None:
    with pytest.raises(CommandError, match="invalid user name") as bad:
        users("add", "Alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    assert bad.value.code == 2
    with pytest.raises(CommandError, match="no password") as empty:
        users("add", "alice", "--role", "admin", "--password-stdin", stdin="")
    assert empty.value.code == 2
    with pytest.raises(CommandError, match="use --password-stdin") as no_tty:
        users("add", "alice", "--role", "admin", stdin=STRONG)
    assert no_tty.value.code == 2


def test_add_twice(users: Users) -> None:
    users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    with pytest.raises(CommandError, match="already exists") as again:
        users("add", "alice", "--role", "viewer", "--password-stdin", stdin=OTHER_STRONG)
    assert again.value.code == 1


def test_passwd(users: Users) -> None:
    users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    assert users("passwd", "alice", "--password-stdin", stdin=OTHER_STRONG + "\r\n") == 0
    assert login(users, "alice", OTHER_STRONG).name == "alice"
    with pytest.raises(CommandError, match="no user 'bob'"):
        users("passwd", "bob", "--password-stdin", stdin=OTHER_STRONG)
    with pytest.raises(CommandError, match="password refused") as weak:
        users("passwd", "alice", "--password-stdin", stdin="alice123")
    assert weak.value.code == 2


def test_token_printed_once_on_stdout(users: Users, capsys: pytest.CaptureFixture[str]) -> None:
    assert users("token", "grafana", "--role", "viewer") == 0
    out, err = capsys.readouterr()
    plain = out.strip()
    assert out == plain + "\n"
    assert plain not in err and "shown only this once" in err
    assert plain not in json.dumps(users.logs)
    store, state = users.store()
    try:
        assert store.verify_token(plain) == Principal("grafana", Role.VIEWER, "token")
    finally:
        state.close()
    doc = listing(users, capsys)
    assert plain not in json.dumps(doc)
    assert [(t["label"], t["role"], t["user"]) for t in doc["tokens"]] == [
        ("grafana", "viewer", None)
    ]


def test_a_token_named_after_a_user_acts_as_the_user(
    users: Users, capsys: pytest.CaptureFixture[str]
) -> None:
    users("add", "alice", "--role", "operator", "--password-stdin", stdin=STRONG)
    capsys.readouterr()
    users("token", "alice", "--role", "operator")
    plain = capsys.readouterr().out.strip()
    with pytest.raises(CommandError, match="cannot be admin"):
        users("token", "alice", "--role", "admin")
    users("disable", "alice")
    store, state = users.store()
    try:
        assert store.verify_token(plain) is None
    finally:
        state.close()


def test_list_and_disable(users: Users, capsys: pytest.CaptureFixture[str]) -> None:
    assert listing(users, capsys) == {"users": [], "tokens": []}
    assert not (users.data_dir / "state.sqlite3").exists()  # listing created nothing
    users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    users("add", "bob", "--role", "viewer", "--password-stdin", stdin=OTHER_STRONG)
    assert users("disable", "bob") == 0
    doc = listing(users, capsys)
    assert [(u["name"], u["role"], u["disabled"]) for u in doc["users"]] == [
        ("alice", "admin", False),
        ("bob", "viewer", True),
    ]
    assert STRONG not in json.dumps(doc) and "argon2" not in json.dumps(doc)

    capsys.readouterr()
    assert users("list") == 0
    text = capsys.readouterr().out
    assert "alice" in text and "disabled" in text and "argon2" not in text
    with pytest.raises(CommandError, match="no user 'carol'"):
        users("disable", "carol")
    users("enable", "bob")
    assert login(users, "bob", OTHER_STRONG).role is Role.VIEWER


def test_revoke(users: Users, capsys: pytest.CaptureFixture[str]) -> None:
    users("token", "grafana", "--role", "viewer")
    token_id = listing(users, capsys)["tokens"][0]["id"]
    assert users("revoke", token_id) == 0
    assert listing(users, capsys)["tokens"] == []
    with pytest.raises(CommandError, match="no token"):
        users("revoke", token_id)


def test_works_while_the_gateway_holds_the_database(users: Users) -> None:
    """The gateway keeps its own connection open; changes reach it at once."""
    gateway_state = StateDB(users.data_dir / "state.sqlite3")
    try:
        gateway = AuthStore(gateway_state)
        users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
        assert gateway.login("alice", STRONG).role is Role.ADMIN
        users("disable", "alice")
        assert gateway.user("alice") is not None
        with pytest.raises(Exception, match="disabled"):
            gateway.login("alice", STRONG)
    finally:
        gateway_state.close()


def test_data_dir_after_the_action(data_dir: Path) -> None:
    args = parse("users", "list", "--data-dir", data_dir)
    assert args.data_dir == data_dir


def test_anfang_users_end_to_end(data_dir: Path) -> None:
    add = anfang(
        "users", "add", "alice", "--role", "admin", "--password-stdin", "--data-dir", data_dir,
        stdin=STRONG + "\n",
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    weak = anfang(
        "users", "add", "bob", "--role", "viewer", "--password-stdin", "--data-dir", data_dir,
        stdin="bob12345\n",
    )  # fmt: skip
    assert_clean_error(weak, 2)
    assert "contains the user name" in weak.stderr
    token = anfang("users", "token", "grafana", "--role", "viewer", "--data-dir", data_dir)
    assert token.returncode == 0, token.stderr
    plain = token.stdout.strip()
    assert plain.startswith("anf_") and plain not in token.stderr
    listed = anfang("users", "list", "--json", "--data-dir", data_dir)
    assert listed.returncode == 0, listed.stderr
    assert [u["name"] for u in json.loads(listed.stdout)["users"]] == ["alice"]
    assert plain not in listed.stdout and STRONG not in listed.stdout + add.stderr
    assert anfang("users", "disable", "alice", "--data-dir", data_dir).returncode == 0


async def test_cli_changes_are_audited_in_the_journal_once(users: Users, tmp_path: Path) -> None:
    """Changes made while the gateway is down are journaled at its start, those made while it
    runs within seconds; the outbox is emptied and nothing is written twice."""
    from gateway.config.loader import load_config
    from gateway.host import Gateway
    from gateway.host.audit_outbox import AuditOutbox
    from gateway.journal import Filter
    from gateway.sdk.discovery import discover

    users("add", "alice", "--role", "admin", "--password-stdin", stdin=STRONG)
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text("site: {id: hq}\n")
    installed = discover()
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=users.data_dir)
    await gw.start()
    try:

        def audit() -> list[tuple[str, str | None]]:
            records = gw.journal.reader.query(Filter.build(types=["audit"]))
            return [(r.model.action, r.model.target) for r in records]  # type: ignore[union-attr]

        assert audit() == [("auth.user_add", "user:alice")]
        users("disable", "alice")
        outbox = AuditOutbox(gw.statedb)
        for _ in range(100):
            if not outbox.pending():
                break
            await asyncio.sleep(0.1)
        assert audit() == [("auth.user_add", "user:alice"), ("auth.user_disable", "user:alice")]
        # A crash after the journal commit but before the delete leaves a journaled entry
        # in the outbox: draining again must not write it a second time.
        journaled = gw.journal.reader.query(Filter.build(types=["audit"]))[-1].model
        outbox.add(journaled)  # type: ignore[arg-type]
        assert (
            await outbox.drain(gw.journal.append, lambda i: gw.journal.reader.find(i) is not None)
            == 0
        )
        assert len(audit()) == 2 and not outbox.pending()
        actor = gw.journal.reader.query(Filter.build(types=["audit"]))[0].model.actor  # type: ignore[union-attr]
        assert actor.startswith("cli:")
    finally:
        await gw.stop()


async def test_a_login_right_after_users_add_is_journaled_after_it(
    users: Users, tmp_path: Path
) -> None:
    """The gateway journals what waits in the outbox before an audit record of its own, so the
    journal's order is the order things happened in (the login came up to 2 s before)."""
    from gateway.config.loader import load_config
    from gateway.host import Gateway
    from gateway.journal import Filter
    from gateway.sdk.discovery import discover

    cfg = tmp_path / "anfang.yaml"
    cfg.write_text("site: {id: hq}\napi: {port: 0}\n")
    installed = discover()
    gw = Gateway(
        load_config(cfg, installed.classes), installed, data_dir=users.data_dir, serve_api=True
    )
    await gw.start()
    try:
        users("add", "bob", "--role", "viewer", "--password-stdin", stdin=STRONG)
        assert await gw.auth.login_async("bob", STRONG, "127.0.0.1") is not None

        def audit() -> list[str]:
            records = gw.journal.reader.query(Filter.build(types=["audit"]))
            actions = [r.model.action for r in records]  # type: ignore[union-attr]
            return [a for a in actions if a != "auth.token_issue"]  # the first start's admin

        for _ in range(100):
            if len(audit()) >= 2:
                break
            await asyncio.sleep(0.05)
        assert audit() == ["auth.user_add", "auth.login"]
    finally:
        await gw.stop()
