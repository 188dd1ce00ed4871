"""``anfang users``: users, passwords and API tokens, managed on the gateway's own machine.

Opens the state database in the data directory directly, so it works before the gateway's
first start and while it runs (SQLite WAL; the gateway reads users and tokens at each request,
so a change counts at once). A new token is printed once on stdout and stored only as a hash.
Each change is audited: the entry waits in the state database's outbox until the gateway
journals it (at once when it runs, at its next start otherwise).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.auth import (
    AuthError,
    AuthStore,
    InvalidNameError,
    Role,
    TokenInfo,
    UserInfo,
    WeakPasswordError,
    check_password,
    validate_name,
)
from gateway.cli.common import CommandError, Subparsers, UsageError, add_command, data_dir_parent
from gateway.host.audit_outbox import AuditOutbox
from gateway.registry.statedb import StateDB

STATE_DB = "state.sqlite3"
ROLES = [r.value for r in Role]


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "users",
        help="manage users and API tokens",
        description=__doc__ or "",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    add = _action(actions, "add", "add a user with a password", _add)
    add.add_argument("name", metavar="NAME", help="user name (lower case, 2 to 32 characters)")
    add.add_argument("--role", required=True, choices=ROLES, help="viewer, operator or admin")
    _password_option(add)

    passwd = _action(actions, "passwd", "set a user's password (also lifts a lockout)", _passwd)
    passwd.add_argument("name", metavar="NAME")
    _password_option(passwd)

    token = _action(
        actions,
        "token",
        "issue an API token, printed once on stdout",
        _token,
        "A token named after an existing user acts as that user (never above the user's role, "
        "and not while the user is disabled); any other name is the label of a service token.",
    )
    token.add_argument("name", metavar="NAME_OR_LABEL")
    token.add_argument("--role", required=True, choices=ROLES, help="viewer, operator or admin")

    listing = _action(actions, "list", "list users and tokens (never their secrets)", _list)
    listing.add_argument("--json", action="store_true", help="one JSON document")

    disable = _action(actions, "disable", "refuse a user's logins and tokens", _disable)
    disable.add_argument("name", metavar="NAME")

    enable = _action(actions, "enable", "undo 'disable'", _enable)
    enable.add_argument("name", metavar="NAME")

    revoke = _action(actions, "revoke", "revoke an API token by its id", _revoke)
    revoke.add_argument("token_id", metavar="TOKEN_ID", help="the 8 hex digits 'list' shows")


def _action(
    actions: Subparsers,
    name: str,
    help: str,
    func: Callable[[argparse.Namespace], int],
    description: str | None = None,
) -> argparse.ArgumentParser:
    parser = actions.add_parser(
        name, parents=[data_dir_parent()], help=help, description=description or help
    )
    parser.set_defaults(func=func)
    return parser


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of asking",
    )


# -- actions -----------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    name = _valid_name(args.name)
    with _store(args.data_dir, create=True) as store:
        if store.user(name) is not None:
            raise CommandError(f"user {name!r} already exists")
        password = _read_password(args, name)
        with _errors():
            store.add_user(name, password, Role(args.role), actor=_actor())
    print(f"user {name} added ({args.role})", file=sys.stderr)
    return 0


def _passwd(args: argparse.Namespace) -> int:
    name = _valid_name(args.name)
    with _store(args.data_dir) as store:
        if store.user(name) is None:
            raise CommandError(f"no user {name!r}")
        password = _read_password(args, name)
        with _errors():
            store.set_password(name, password, actor=_actor())
    print(f"password of {name} changed", file=sys.stderr)
    return 0


def _token(args: argparse.Namespace) -> int:
    label = _valid_name(args.name, "user name or token label")
    with _store(args.data_dir, create=True) as store:
        owner = label if store.user(label) is not None else None
        with _errors():
            info, plain = store.issue_token(label, Role(args.role), user=owner, actor=_actor())
    print(plain, flush=True)
    whom = f"user {owner}" if owner else f"label {label}"
    print(
        f"token {info.display} for {whom} ({info.role}): shown only this once; "
        f"revoke it with 'anfang users revoke {info.id}'",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    users: list[UserInfo] = []
    tokens: list[TokenInfo] = []
    if (args.data_dir / STATE_DB).exists():
        with _store(args.data_dir) as store:
            users, tokens = store.list_users(), store.list_tokens()
    if args.json:
        doc = {"users": [_user_json(u) for u in users], "tokens": [_token_json(t) for t in tokens]}
        print(json.dumps(doc, indent=2))
        return 0
    _table(
        ["USER", "ROLE", "STATUS", "PASSWORD CHANGED"],
        [[u.name, u.role, _status(u), _when(u.password_changed_at)] for u in users],
    )
    print()
    _table(
        ["TOKEN ID", "LABEL", "ROLE", "USER", "CREATED"],
        [[t.id, t.label, t.role, t.user or "-", _when(t.created_at)] for t in tokens],
    )
    return 0


def _disable(args: argparse.Namespace) -> int:
    name = _valid_name(args.name)
    with _store(args.data_dir) as store, _errors():
        store.disable_user(name, actor=_actor())
    print(f"user {name} disabled", file=sys.stderr)
    return 0


def _enable(args: argparse.Namespace) -> int:
    name = _valid_name(args.name)
    with _store(args.data_dir) as store, _errors():
        store.enable_user(name, actor=_actor())
    print(f"user {name} enabled", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _store(args.data_dir) as store, _errors():
        store.revoke_token(args.token_id, actor=_actor())
    print(f"token {args.token_id} revoked", file=sys.stderr)
    return 0


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _store(data_dir: Path, *, create: bool = False) -> Iterator[AuthStore]:
    """The auth store of ``data_dir``, flushed and closed on the way out."""
    path = data_dir / STATE_DB
    if not create and not path.exists():
        raise CommandError(f"{path} does not exist: no users or tokens yet")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    state = StateDB(path)
    try:
        yield AuthStore(state, audit=AuditOutbox(state).add)
    finally:
        state.close()


@contextmanager
def _errors() -> Iterator[None]:
    """Auth failures as one-line errors: a bad name or weak password exits 2, the rest 1."""
    try:
        yield
    except WeakPasswordError as exc:
        raise CommandError(f"password refused: {exc}", code=2) from None
    except InvalidNameError as exc:
        raise UsageError(str(exc)) from None
    except AuthError as exc:
        raise CommandError(str(exc)) from None


def _valid_name(name: str, what: str = "user name") -> str:
    try:
        return validate_name(name, what)
    except InvalidNameError as exc:
        raise UsageError(str(exc)) from None


def _read_password(args: argparse.Namespace, name: str) -> str:
    """From stdin's first line with ``--password-stdin``, else asked twice on the terminal."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input has no password")
        return password
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: use --password-stdin")
    password = getpass.getpass(f"password for {name}: ")
    with _errors():
        check_password(name, password)  # before asking again for a password that cannot pass
    if getpass.getpass("again: ") != password:
        raise UsageError("the two passwords differ")
    return password


def _actor() -> str:
    """Who ran the command, for the operator log: the local account name."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "cli"


def _when(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _status(user: UserInfo) -> str:
    if user.disabled:
        return "disabled"
    if user.locked_until is not None:
        return f"locked until {_when(user.locked_until)}"
    return "active"


def _table(header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        print(f"no {header[0].split()[0].lower()}s")
        return
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _user_json(user: UserInfo) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "locked_until": None if user.locked_until is None else user.locked_until.isoformat(),
        "created_at": user.created_at.isoformat(),
        "password_changed_at": user.password_changed_at.isoformat(),
    }


def _token_json(token: TokenInfo) -> dict[str, Any]:
    return {
        "id": token.id,
        "label": token.label,
        "role": token.role.value,
        "user": token.user,
        "created_at": token.created_at.isoformat(),
    }
