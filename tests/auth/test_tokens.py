"""Bearer tokens: shown once, stored only as a hash, revocable, bound to their user's fate."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from gateway.auth import AuthError, AuthStore, Principal, Role, UnknownTokenError
from gateway.auth.tokens import token_id
from gateway.registry.statedb import StateDB
from tests.auth.helpers import STRONG


def test_issue_verify_revoke(store: AuthStore) -> None:
    info, plain = store.issue_token("grafana", Role.VIEWER)
    assert plain.startswith(f"anf_{info.id}_")
    assert len(plain) == len("anf_") + 8 + 1 + 43
    assert token_id(plain) == info.id
    assert store.verify_token(plain) == Principal("grafana", Role.VIEWER, "token")
    assert [t.id for t in store.list_tokens()] == [info.id]

    store.revoke_token(info.id)
    assert store.verify_token(plain) is None
    assert store.list_tokens() == []
    with pytest.raises(UnknownTokenError):
        store.revoke_token(info.id)


def test_only_a_well_formed_token_with_the_right_secret_passes(store: AuthStore) -> None:
    info, plain = store.issue_token("grafana", Role.OPERATOR)
    other_secret = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    assert store.verify_token(other_secret) is None
    assert store.verify_token(f"anf_{info.id}_") is None
    assert store.verify_token(plain + "x") is None
    assert store.verify_token(plain.upper()) is None
    assert store.verify_token("") is None
    assert store.verify_token("Bearer " + plain) is None
    assert store.verify_token(plain) is not None


def test_only_a_hash_is_stored(state: StateDB, data_dir: Path) -> None:
    store = AuthStore(state)
    _, plain = store.issue_token("grafana", Role.ADMIN)
    state.close()
    db = data_dir / "state.sqlite3"
    on_disk = b"".join(p.read_bytes() for p in data_dir.glob("state.sqlite3*"))
    assert plain.encode() not in on_disk
    secret = plain.split("_", 2)[2]  # the secret itself may hold "_" (URL-safe base64)
    assert len(secret) == 43
    assert secret.encode() not in on_disk
    with sqlite3.connect(db) as conn:
        values = [v for (v,) in conn.execute("SELECT value FROM kv WHERE ns = 'auth:token'")]
    assert len(values) == 1
    assert hashlib.sha256(plain.encode()).hexdigest() in values[0]
    assert secret not in values[0]

    reopened = StateDB(db)
    try:
        assert AuthStore(reopened).verify_token(plain) == Principal("grafana", Role.ADMIN, "token")
    finally:
        reopened.close()


def test_a_user_token_acts_as_the_user(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    info, plain = store.issue_token("alice", Role.VIEWER, user="alice")
    assert info.user == "alice"
    assert store.verify_token(plain) == Principal("alice", Role.VIEWER, "token")


def test_a_user_token_is_never_above_the_user(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    with pytest.raises(AuthError, match="cannot be admin"):
        store.issue_token("alice", Role.ADMIN, user="alice")
    with pytest.raises(AuthError, match="no user"):
        store.issue_token("bob", Role.VIEWER, user="bob")


def test_a_disabled_users_tokens_stop_working(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.ADMIN)
    _, plain = store.issue_token("alice", Role.ADMIN, user="alice")
    store.disable_user("alice")
    assert store.verify_token(plain) is None
    store.enable_user("alice")
    assert store.verify_token(plain) == Principal("alice", Role.ADMIN, "token")


def test_ids_are_distinct(store: AuthStore) -> None:
    ids = {store.issue_token(f"svc{i}", Role.VIEWER)[0].id for i in range(50)}
    assert len(ids) == 50


def test_revocation_from_another_connection_counts_at_once(
    store: AuthStore, data_dir: Path
) -> None:
    """``anfang users`` opens the same file while the gateway runs."""
    info, plain = store.issue_token("grafana", Role.VIEWER)
    other = StateDB(data_dir / "state.sqlite3")
    try:
        AuthStore(other).revoke_token(info.id)
    finally:
        other.close()
    assert store.verify_token(plain) is None
