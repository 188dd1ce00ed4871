"""Users, API tokens and login lockout, kept in the gateway's state database.

Three namespaces: ``auth:user`` (name, role, argon2 hash, disabled), ``auth:token`` (by id:
label, role, SHA-256 of the token) and ``auth:attempts`` (recent login failures, lockout). The
gateway and ``anfang users`` open the same file at once (SQLite WAL); every lookup reads the
database, so a user disabled or a token revoked from the command line counts at the next
request. Only admin commands write ``auth:user``; a login writes ``auth:attempts``, so a login in
the gateway never overwrites a password just set from the command line.

Passwords and tokens are never logged nor put in an audit entry; a failed login's user name is
logged only when it is a valid name (people type passwords into the name field).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import structlog

from gateway.auth import passwords, tokens
from gateway.auth.model import (
    DEFAULT_LOCKOUT,
    NAME_PATTERN,
    AuthError,
    LockoutPolicy,
    LoginRefused,
    Principal,
    RefusalReason,
    TokenInfo,
    UnknownTokenError,
    UnknownUserError,
    UserExistsError,
    UserInfo,
    validate_name,
)
from gateway.auth.roles import Role
from gateway.model.command import AuditEntry
from gateway.model.common import JsonDict, utcnow
from gateway.registry.statedb import StateDB, StateStore

log = structlog.get_logger("anfang.auth")

NS_USERS = "auth:user"
NS_TOKENS = "auth:token"
NS_ATTEMPTS = "auth:attempts"
ADMIN_TOKEN_FILE = "admin.token"
INITIAL_ADMIN_LABEL = "initial-admin"

VERIFY_SLOTS = 2
"""Password checks run at once by ``login_async``: each argon2 check takes 64 MiB and ~0.15 s,
so a burst of logins must queue rather than take the memory of a small gateway box."""

AuditSink = Callable[[AuditEntry], object]


class AuthStore:
    """Users with passwords, bearer tokens, and the lockout that guards logins."""

    def __init__(
        self,
        state: StateDB,
        clock: Callable[[], datetime] = utcnow,
        lockout: LockoutPolicy = DEFAULT_LOCKOUT,
        *,
        audit: AuditSink | None = None,
    ) -> None:
        self._state = state
        self._users = StateStore(state, NS_USERS)
        self._tokens = StateStore(state, NS_TOKENS)
        self._attempts = StateStore(state, NS_ATTEMPTS)
        self._clock = clock
        self.lockout = lockout
        self._audit = audit
        self._verify_slots = asyncio.Semaphore(VERIFY_SLOTS)
        self._per_user: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # -- users ---------------------------------------------------------------------------------

    def add_user(self, name: str, password: str, role: Role, *, actor: str = "local") -> UserInfo:
        """Create a user; refuses a taken name and a weak password (:class:`WeakPasswordError`)."""
        validate_name(name)
        if self._users.get(name) is not None:
            raise UserExistsError(f"user {name!r} already exists")
        passwords.check_password(name, password)
        now = self._clock().isoformat()
        self._users.set(
            name,
            {
                "role": Role(role).value,
                "hash": passwords.hash_password(password),
                "disabled": False,
                "created_at": now,
                "password_changed_at": now,
            },
        )
        log.info("user added", user=name, role=str(role), actor=actor)
        self._record(actor, "auth.user_add", f"user:{name}", detail={"role": str(role)})
        return self._user_info(name, self._users.get(name))

    def set_password(self, name: str, password: str, *, actor: str = "local") -> None:
        """Replace a user's password; this also lifts a lockout."""
        record = self._existing_user(name)
        passwords.check_password(name, password)
        record["hash"] = passwords.hash_password(password)
        record["password_changed_at"] = self._clock().isoformat()
        self._users.set(name, record)
        self._attempts.delete(name)
        log.info("password changed", user=name, actor=actor)
        self._record(actor, "auth.password_change", f"user:{name}")

    def disable_user(self, name: str, *, actor: str = "local") -> None:
        """Refuse the user's logins and tokens from now on; nothing is deleted."""
        self._set_disabled(name, True, actor)

    def enable_user(self, name: str, *, actor: str = "local") -> None:
        self._set_disabled(name, False, actor)

    def user(self, name: str) -> UserInfo | None:
        record = self._users.get(name) if NAME_PATTERN.match(name) else None
        return None if record is None else self._user_info(name, record)

    def list_users(self) -> list[UserInfo]:
        return [self._user_info(name, rec) for name, rec in self._users.items().items()]

    # -- tokens --------------------------------------------------------------------------------

    def issue_token(
        self, name_or_label: str, role: Role, *, user: str | None = None, actor: str = "local"
    ) -> tuple[TokenInfo, str]:
        """A new token and its plain text, which is returned here once and stored nowhere.

        With ``user`` the token acts as that user: never above the user's role, and refused
        while the user is disabled. Without, it is a service token known by its label.
        """
        validate_name(name_or_label, "token label")
        role = Role(role)
        if user is not None:
            owner_role = Role(self._existing_user(user)["role"])
            if not owner_role.allows(role):
                raise AuthError(f"user {user!r} is {owner_role}; a token cannot be {role}")
        new = tokens.new_token(set(self._tokens.items()))
        info = TokenInfo(new.id, name_or_label, role, user, self._clock())
        self._save_token(info, new.digest, actor)
        return info, new.plain

    def revoke_token(self, token_id: str, *, actor: str = "local") -> None:
        if self._tokens.get(token_id) is None:
            raise UnknownTokenError(f"no token with id {token_id!r}")
        self._tokens.delete(token_id)
        log.info("token revoked", token=token_id, actor=actor)
        self._record(actor, "auth.token_revoke", f"token:{token_id}")

    def list_tokens(self) -> list[TokenInfo]:
        infos = [self._token_info(tid, rec) for tid, rec in self._tokens.items().items()]
        return sorted(infos, key=lambda t: (t.created_at, t.id))

    def verify_token(self, plain: str) -> Principal | None:
        """Who ``plain`` stands for, or None (malformed, unknown, revoked, user disabled)."""
        token_id = tokens.token_id(plain)
        record = None if token_id is None else self._tokens.get(token_id)
        if record is None or not tokens.matches(plain, record["hash"]):
            return None
        role = Role(record["role"])
        owner = record.get("user")
        if owner is None:
            return Principal(record["label"], role, "token")
        user = self._users.get(owner)
        if user is None or user["disabled"]:
            return None
        return Principal(owner, min(role, Role(user["role"])), "token")

    # -- login ---------------------------------------------------------------------------------

    def login(self, name: str, password: str, remote: str | None = None) -> Principal:
        """Check a password; raises :class:`LoginRefused`. Blocks ~0.15 s: in the event loop
        use :meth:`login_async`."""
        encoded = self._login_begin(name, remote)
        checked = _check(encoded, password)
        return self._login_finish(name, remote, encoded, checked)

    async def login_async(self, name: str, password: str, remote: str | None = None) -> Principal:
        """:meth:`login` with the argon2 work in a thread, a few at a time.

        Attempts on one user name are judged one after the other, in arrival order: checked
        side by side, a right guess finishing before earlier wrong ones were counted would slip
        past the lockout. (The lock lives only while someone waits on it.)
        """
        lock = self._per_user.get(name)
        if lock is None:
            lock = self._per_user[name] = asyncio.Lock()
        async with lock:
            encoded = self._login_begin(name, remote)
            async with self._verify_slots:
                checked = await asyncio.to_thread(_check, encoded, password)
            return self._login_finish(name, remote, encoded, checked)

    def _login_begin(self, name: str, remote: str | None) -> str | None:
        """The stored hash to check against (None: no such user), after the lockout check."""
        if not NAME_PATTERN.match(name):
            return None
        locked_until = self._locked_until(name, self._clock())
        if locked_until is not None:
            self._refuse(name, remote, "locked", locked_until)
        record = self._users.get(name)
        return None if record is None else str(record["hash"])

    def _login_finish(
        self, name: str, remote: str | None, encoded: str | None, checked: _Checked
    ) -> Principal:
        """Judge the attempt as things stand now: logins checked at once count in turn."""
        now = self._clock()
        if encoded is None:
            self._refuse(name, remote, "bad_credentials")
        locked_until = self._locked_until(name, now)
        if locked_until is not None:
            self._refuse(name, remote, "locked", locked_until)
        record = self._users.get(name)
        if record is None:
            self._refuse(name, remote, "bad_credentials")
        if not checked.ok:
            self._count_failure(name, remote, now)
            self._refuse(name, remote, "bad_credentials")
        if record["disabled"]:
            self._refuse(name, remote, "disabled")
        self._attempts.delete(name)
        if checked.rehashed is not None and record["hash"] == encoded:
            record["hash"] = checked.rehashed
            self._users.set(name, record)
            self._state.flush()  # at once: the command line may be changing this user too
        log.info("login", user=name, remote=remote)
        self._record(name, "auth.login", f"user:{name}", remote)
        return Principal(name, Role(record["role"]), "password")

    def _count_failure(self, name: str, remote: str | None, now: datetime) -> None:
        attempts = self._attempts.get(name, {})
        since = now - self.lockout.window
        failures = [t for t in attempts.get("failures", []) if datetime.fromisoformat(t) > since]
        failures.append(now.isoformat())
        if len(failures) < self.lockout.max_failures:
            self._attempts.set(name, {"failures": failures})
            return
        until = now + self.lockout.duration
        self._attempts.set(name, {"failures": [], "locked_until": until.isoformat()})
        log.warning("user locked out", user=name, remote=remote, until=until.isoformat())
        self._record(
            name,
            "auth.lockout",
            f"user:{name}",
            remote,
            "locked",
            {"failures": len(failures), "until": until.isoformat()},
        )

    def _locked_until(self, name: str, now: datetime) -> datetime | None:
        text = self._attempts.get(name, {}).get("locked_until")
        until = None if text is None else datetime.fromisoformat(text)
        return until if until is not None and now < until else None

    def _refuse(
        self,
        name: str,
        remote: str | None,
        reason: RefusalReason,
        locked_until: datetime | None = None,
    ) -> NoReturn:
        shown = name if NAME_PATTERN.match(name) else None
        log.warning("login failed", user=shown, remote=remote, reason=reason)
        actor = shown or "(invalid name)"
        self._record(actor, "auth.login", None if shown is None else f"user:{name}", remote, reason)
        raise LoginRefused(reason, locked_until)

    # -- the first admin -----------------------------------------------------------------------

    def has_admin(self) -> bool:
        """Whether an enabled admin user or a usable admin token exists."""
        users = self._users.items()
        if any(_is_admin(u) for u in users.values()):
            return True
        for record in self._tokens.items().values():
            if record["role"] != Role.ADMIN:
                continue
            owner = record.get("user")
            if owner is None or _is_admin(users.get(owner)):
                return True
        return False

    def ensure_admin_token(self, data_dir: Path) -> str | None:
        """On a gateway with no admin yet: a new admin token, also written to ``admin.token``.

        The file (mode 0600, created afresh) is how the installer gets in; the returned token
        is for the caller to show once on the terminal, never in a log. Returns None when an
        admin user or token already exists.
        """
        if self.has_admin():
            return None
        path = data_dir / ADMIN_TOKEN_FILE
        if path.exists() or path.is_symlink():
            log.warning("replacing an admin token file that no longer opens", path=str(path))
            path.unlink()
        new = tokens.new_token(set(self._tokens.items()))
        _write_secret(path, new.plain + "\n")
        info = TokenInfo(new.id, INITIAL_ADMIN_LABEL, Role.ADMIN, None, self._clock())
        try:
            self._save_token(info, new.digest, "gateway")
            self._state.flush()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        log.warning("created the first admin token", token=new.id, path=str(path))
        return new.plain

    # -- records -------------------------------------------------------------------------------

    def _existing_user(self, name: str) -> dict[str, Any]:
        validate_name(name)
        record: dict[str, Any] | None = self._users.get(name)
        if record is None:
            raise UnknownUserError(f"no user {name!r}")
        return record

    def _set_disabled(self, name: str, disabled: bool, actor: str) -> None:
        record = self._existing_user(name)
        record["disabled"] = disabled
        self._users.set(name, record)
        what = "disabled" if disabled else "enabled"
        log.info(f"user {what}", user=name, actor=actor)
        self._record(actor, "auth.user_disable" if disabled else "auth.user_enable", f"user:{name}")

    def _user_info(self, name: str, record: dict[str, Any]) -> UserInfo:
        return UserInfo(
            name=name,
            role=Role(record["role"]),
            disabled=bool(record["disabled"]),
            created_at=datetime.fromisoformat(record["created_at"]),
            password_changed_at=datetime.fromisoformat(record["password_changed_at"]),
            locked_until=self._locked_until(name, self._clock()),
        )

    def _save_token(self, info: TokenInfo, digest: str, actor: str) -> None:
        self._tokens.set(
            info.id,
            {
                "label": info.label,
                "role": info.role.value,
                "user": info.user,
                "hash": digest,
                "created_at": info.created_at.isoformat(),
            },
        )
        log.info("token issued", token=info.id, label=info.label, role=str(info.role), actor=actor)
        detail: JsonDict = {"label": info.label, "role": info.role.value, "user": info.user}
        self._record(actor, "auth.token_issue", f"token:{info.id}", detail=detail)

    @staticmethod
    def _token_info(token_id: str, record: dict[str, Any]) -> TokenInfo:
        return TokenInfo(
            id=token_id,
            label=record["label"],
            role=Role(record["role"]),
            user=record.get("user"),
            created_at=datetime.fromisoformat(record["created_at"]),
        )

    def _record(
        self,
        actor: str,
        action: str,
        target: str | None,
        remote: str | None = None,
        result: str = "ok",
        detail: JsonDict | None = None,
    ) -> None:
        """Hand an operator-log entry (§6.4.1) to the audit sink, when there is one."""
        if self._audit is None:
            return
        self._audit(
            AuditEntry(
                at=self._clock(),
                actor=actor[:128],
                action=action,
                target=target,
                remote=None if remote is None else remote[:128],
                result=result,
                detail=detail or {},
            )
        )


def _is_admin(user: dict[str, Any] | None) -> bool:
    """Whether a user record is an admin who may act now."""
    return user is not None and user["role"] == Role.ADMIN and not user["disabled"]


@dataclass(frozen=True)
class _Checked:
    ok: bool
    rehashed: str | None = None


def _check(encoded: str | None, password: str) -> _Checked:
    """The argon2 part of a login (thread-safe; no state touched)."""
    if encoded is None:
        passwords.burn_verify(password)
        return _Checked(False)
    if not passwords.verify_password(encoded, password):
        return _Checked(False)
    if passwords.needs_rehash(encoded):
        return _Checked(True, passwords.hash_password(password))
    return _Checked(True)


def _write_secret(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only; never follows or reuses an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
