"""Users, logins and lockout, on a real state database with a clock the test moves."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import argon2
import pytest
import structlog

from gateway.auth import (
    ADMIN_TOKEN_FILE,
    AuthStore,
    InvalidNameError,
    LockoutPolicy,
    LoginRefused,
    Principal,
    Role,
    UnknownUserError,
    UserExistsError,
    WeakPasswordError,
)
from gateway.auth.passwords import needs_rehash
from gateway.auth.store import NS_USERS
from gateway.model.command import AuditEntry
from gateway.registry.statedb import StateDB
from tests.auth.helpers import OTHER_STRONG, STRONG, Clock

WRONG = "wrong-Password-1"


def refusal(store: AuthStore, name: str, password: str) -> LoginRefused:
    with pytest.raises(LoginRefused) as refused:
        store.login(name, password, "192.0.2.7")
    return refused.value


# -- users -------------------------------------------------------------------------------------


def test_add_and_log_in(store: AuthStore, clock: Clock) -> None:
    info = store.add_user("alice", STRONG, Role.OPERATOR)
    assert info.name == "alice"
    assert info.role is Role.OPERATOR
    assert not info.disabled
    assert info.created_at == clock.now
    assert store.login("alice", STRONG) == Principal("alice", Role.OPERATOR, "password")
    assert [u.name for u in store.list_users()] == ["alice"]


@pytest.mark.parametrize(
    "name", ["Alice", "a", "1alice", "alice smith", "alice@example.com", "a" * 33, ""]
)
def test_invalid_user_names_are_refused(store: AuthStore, name: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid user name"):
        store.add_user(name, STRONG, Role.VIEWER)


@pytest.mark.parametrize("name", ["al", "alice", "j.doe", "ops-2", "night_shift", "a" * 32])
def test_valid_user_names(store: AuthStore, name: str) -> None:
    store.add_user(name, STRONG, Role.VIEWER)


def test_a_name_is_taken_once(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.VIEWER)
    with pytest.raises(UserExistsError):
        store.add_user("alice", OTHER_STRONG, Role.ADMIN)
    assert store.login("alice", STRONG).role is Role.VIEWER


def test_weak_passwords_are_refused_on_add_and_change(store: AuthStore) -> None:
    with pytest.raises(WeakPasswordError) as refused:
        store.add_user("alice", "alice2024", Role.VIEWER)
    assert refused.value.code == "contains_user"
    assert store.list_users() == []
    store.add_user("alice", STRONG, Role.VIEWER)
    with pytest.raises(WeakPasswordError, match="no digit"):
        store.set_password("alice", "only-letters-here")
    assert store.login("alice", STRONG).name == "alice"


def test_set_password(store: AuthStore, clock: Clock) -> None:
    store.add_user("alice", STRONG, Role.VIEWER)
    clock.advance(days=1)
    store.set_password("alice", OTHER_STRONG)
    assert refusal(store, "alice", STRONG).reason == "bad_credentials"
    assert store.login("alice", OTHER_STRONG).name == "alice"
    user = store.user("alice")
    assert user is not None
    assert user.password_changed_at == clock.now
    with pytest.raises(UnknownUserError):
        store.set_password("bob", STRONG)


def test_users_survive_a_restart(state: StateDB, data_dir: Path) -> None:
    AuthStore(state).add_user("alice", STRONG, Role.ADMIN)
    state.close()
    reopened = StateDB(data_dir / "state.sqlite3")
    try:
        assert AuthStore(reopened).login("alice", STRONG).role is Role.ADMIN
    finally:
        reopened.close()


# -- login refusals ----------------------------------------------------------------------------


def test_wrong_password_and_unknown_user_look_the_same(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.VIEWER)
    wrong = refusal(store, "alice", WRONG)
    unknown = refusal(store, "bob", STRONG)
    invalid = refusal(store, "Not A Name", STRONG)
    assert wrong.reason == unknown.reason == invalid.reason == "bad_credentials"
    assert str(wrong) == str(unknown) == "wrong user name or password"


def test_disabled_user(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.ADMIN)
    store.disable_user("alice")
    user = store.user("alice")
    assert user is not None and user.disabled
    assert refusal(store, "alice", STRONG).reason == "disabled"
    # only someone who knows the password learns the user is disabled
    assert refusal(store, "alice", WRONG).reason == "bad_credentials"
    store.enable_user("alice")
    assert store.login("alice", STRONG).role is Role.ADMIN
    with pytest.raises(UnknownUserError):
        store.disable_user("bob")


def test_disabling_from_another_connection_counts_at_once(store: AuthStore, data_dir: Path) -> None:
    store.add_user("alice", STRONG, Role.ADMIN)
    other = StateDB(data_dir / "state.sqlite3")
    try:
        AuthStore(other).disable_user("alice")
    finally:
        other.close()
    assert refusal(store, "alice", STRONG).reason == "disabled"


# -- lockout -----------------------------------------------------------------------------------


def test_five_failures_lock_the_user_out_for_fifteen_minutes(
    store: AuthStore, clock: Clock
) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    for _ in range(5):
        clock.advance(seconds=30)
        assert refusal(store, "alice", WRONG).reason == "bad_credentials"
    locked_at = clock.now
    locked = refusal(store, "alice", STRONG)  # even the right password
    assert locked.reason == "locked"
    assert locked.locked_until == locked_at + timedelta(minutes=15)
    user = store.user("alice")
    assert user is not None and user.locked_until == locked.locked_until

    clock.advance(minutes=14, seconds=59)
    assert refusal(store, "alice", STRONG).reason == "locked"
    clock.advance(seconds=1)
    assert store.login("alice", STRONG).name == "alice"
    user = store.user("alice")
    assert user is not None and user.locked_until is None


def test_success_resets_the_count(store: AuthStore, clock: Clock) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    for _ in range(4):
        refusal(store, "alice", WRONG)
    store.login("alice", STRONG)
    for _ in range(4):
        refusal(store, "alice", WRONG)
    assert store.login("alice", STRONG).name == "alice"


def test_only_failures_within_the_window_count(store: AuthStore, clock: Clock) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    for _ in range(4):
        refusal(store, "alice", WRONG)
    clock.advance(minutes=15, seconds=1)
    for _ in range(4):
        refusal(store, "alice", WRONG)
    assert store.login("alice", STRONG).name == "alice"


def test_failures_count_per_user(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    store.add_user("bob", OTHER_STRONG, Role.OPERATOR)
    for _ in range(5):
        refusal(store, "alice", WRONG)
    assert refusal(store, "alice", STRONG).reason == "locked"
    assert store.login("bob", OTHER_STRONG).name == "bob"


def test_setting_the_password_lifts_a_lockout(store: AuthStore) -> None:
    store.add_user("alice", STRONG, Role.OPERATOR)
    for _ in range(5):
        refusal(store, "alice", WRONG)
    store.set_password("alice", OTHER_STRONG)
    assert store.login("alice", OTHER_STRONG).name == "alice"


def test_lockout_is_configurable(state: StateDB, clock: Clock) -> None:
    policy = LockoutPolicy(max_failures=2, window=timedelta(minutes=1), duration=timedelta(hours=1))
    store = AuthStore(state, clock, policy)
    store.add_user("alice", STRONG, Role.OPERATOR)
    refusal(store, "alice", WRONG)
    clock.advance(minutes=2)  # outside the window: forgotten
    refusal(store, "alice", WRONG)
    assert store.login("alice", STRONG).name == "alice"
    refusal(store, "alice", WRONG)
    refusal(store, "alice", WRONG)
    clock.advance(minutes=59)
    assert refusal(store, "alice", STRONG).reason == "locked"
    clock.advance(minutes=1)
    assert store.login("alice", STRONG).name == "alice"


@pytest.mark.parametrize(
    "kwargs",
    [{"max_failures": 0}, {"window": timedelta(0)}, {"duration": timedelta(seconds=-1)}],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LockoutPolicy(**kwargs)  # type: ignore[arg-type]


async def test_login_async_counts_concurrent_failures(store: AuthStore) -> None:
    """Checks running at once are judged as they finish: the lockout still holds."""
    store.add_user("alice", STRONG, Role.OPERATOR)
    assert (await store.login_async("alice", STRONG)).via == "password"
    attempts = [store.login_async("alice", WRONG, "192.0.2.7") for _ in range(5)]
    attempts.append(store.login_async("alice", STRONG, "192.0.2.7"))
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert all(isinstance(r, LoginRefused) for r in results)
    with pytest.raises(LoginRefused) as refused:
        await store.login_async("alice", STRONG)
    assert refused.value.reason == "locked"


# -- hashes, logs and the operator log ---------------------------------------------------------


def test_login_upgrades_an_old_hash(store: AuthStore, state: StateDB) -> None:
    store.add_user("alice", STRONG, Role.VIEWER)
    record = state.get(NS_USERS, "alice")
    record["hash"] = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(STRONG)
    state.put(NS_USERS, "alice", record)
    assert store.login("alice", STRONG).name == "alice"
    upgraded = state.get(NS_USERS, "alice")["hash"]
    assert upgraded != record["hash"]
    assert not needs_rehash(upgraded)
    assert store.login("alice", STRONG).name == "alice"


def test_no_secret_in_logs_or_audit_entries(state: StateDB, clock: Clock, data_dir: Path) -> None:
    audit: list[AuditEntry] = []
    store = AuthStore(state, clock, audit=audit.append)
    with structlog.testing.capture_logs() as logs:
        store.add_user("alice", STRONG, Role.ADMIN)
        store.set_password("alice", OTHER_STRONG)
        _, plain = store.issue_token("grafana", Role.VIEWER)
        store.login("alice", OTHER_STRONG, "192.0.2.7")
        for _ in range(5):
            refusal(store, "alice", WRONG)
        refusal(store, STRONG, STRONG)  # a password typed into the name field
        store.disable_user("alice")
        first = store.ensure_admin_token(data_dir)  # no admin left
    assert first is not None
    text = json.dumps(logs, default=str) + "".join(e.model_dump_json() for e in audit)
    for secret in (STRONG, OTHER_STRONG, WRONG, plain, first):
        assert secret not in text
    events = [e["event"] for e in logs]
    assert "user added" in events and "login failed" in events and "user locked out" in events
    actions = [(e.action, e.result) for e in audit]
    assert actions == [
        ("auth.user_add", "ok"),
        ("auth.password_change", "ok"),
        ("auth.token_issue", "ok"),
        ("auth.login", "ok"),
        *[("auth.login", "bad_credentials")] * 4,
        ("auth.lockout", "locked"),
        ("auth.login", "bad_credentials"),
        ("auth.login", "bad_credentials"),
        ("auth.user_disable", "ok"),
        ("auth.token_issue", "ok"),
    ]
    login = audit[3]
    assert (login.actor, login.target, login.remote) == ("alice", "user:alice", "192.0.2.7")
    assert audit[-3].actor == "(invalid name)" and audit[-3].target is None
    assert audit[-1].actor == "gateway" and audit[-1].detail["label"] == "initial-admin"


# -- the first admin token ---------------------------------------------------------------------


def test_first_start_writes_an_admin_token_once(store: AuthStore, data_dir: Path) -> None:
    plain = store.ensure_admin_token(data_dir)
    assert plain is not None
    path = data_dir / ADMIN_TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == plain + "\n"
    principal = store.verify_token(plain)
    assert principal is not None and principal.role is Role.ADMIN

    assert store.ensure_admin_token(data_dir) is None
    assert path.read_text() == plain + "\n"
    assert len(store.list_tokens()) == 1


def test_the_admin_token_is_0600_whatever_the_umask(store: AuthStore, data_dir: Path) -> None:
    old = os.umask(0)
    try:
        store.ensure_admin_token(data_dir)
    finally:
        os.umask(old)
    assert stat.S_IMODE((data_dir / ADMIN_TOKEN_FILE).stat().st_mode) == 0o600


def test_no_admin_token_when_an_admin_exists(store: AuthStore, data_dir: Path) -> None:
    store.add_user("alice", STRONG, Role.ADMIN)
    assert store.ensure_admin_token(data_dir) is None
    assert not (data_dir / ADMIN_TOKEN_FILE).exists()


def test_an_admin_token_when_no_admin_can_act(store: AuthStore, data_dir: Path) -> None:
    """Operators and a disabled admin cannot manage users: the gateway opens a way in."""
    store.add_user("alice", STRONG, Role.ADMIN)
    store.issue_token("alice", Role.ADMIN, user="alice")
    store.add_user("bob", OTHER_STRONG, Role.OPERATOR)
    store.issue_token("grafana", Role.OPERATOR)
    store.disable_user("alice")
    assert store.ensure_admin_token(data_dir) is not None


def test_a_stale_admin_token_file_is_replaced(state: StateDB, data_dir: Path) -> None:
    """The state database was lost: the old file's token opens nothing any more."""
    path = data_dir / ADMIN_TOKEN_FILE
    path.write_text("anf_00000000_stale\n")
    path.chmod(0o644)
    plain = AuthStore(state).ensure_admin_token(data_dir)
    assert plain is not None
    assert path.read_text() == plain + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
