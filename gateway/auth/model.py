"""The auth vocabulary: who is asking, users and tokens as listed, the lockout policy, errors.

Kept apart from :mod:`gateway.auth.store` (which persists and checks them) so the API and the
CLI can speak of principals and refusals without the storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from gateway.auth import tokens
from gateway.auth.roles import Role

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
"""User names and token labels: 2 to 32 characters, lower case, safe in logs and paths."""

Via = Literal["token", "session", "password"]
RefusalReason = Literal["bad_credentials", "locked", "disabled"]


@dataclass(frozen=True)
class LockoutPolicy:
    """``max_failures`` wrong passwords within ``window`` lock the user out for ``duration``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.window <= timedelta(0) or self.duration <= timedelta(0):
            raise ValueError("window and duration must be positive")


DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True)
class Principal:
    """Who is asking, with which role, and how they proved it."""

    name: str
    role: Role
    via: Via

    def allows(self, required: Role) -> bool:
        return self.role.allows(required)


@dataclass(frozen=True)
class UserInfo:
    """A user as listed: everything but the password hash."""

    name: str
    role: Role
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: everything but the secret (which is not stored at all)."""

    id: str
    label: str
    role: Role
    user: str | None
    created_at: datetime

    @property
    def display(self) -> str:
        return tokens.display(self.id)


class AuthError(Exception):
    """A user or token operation that cannot be done; the message says why."""


class InvalidNameError(AuthError, ValueError):
    pass


class UserExistsError(AuthError):
    pass


class UnknownUserError(AuthError):
    pass


class UnknownTokenError(AuthError):
    pass


class LoginRefused(AuthError):
    """A login that did not succeed; ``reason`` says which way (the HTTP layer may hide it)."""

    def __init__(self, reason: RefusalReason, locked_until: datetime | None = None) -> None:
        text = {
            "bad_credentials": "wrong user name or password",
            "locked": "too many failed logins; try again later",
            "disabled": "the user is disabled",
        }[reason]
        super().__init__(text)
        self.reason: RefusalReason = reason
        self.locked_until = locked_until


def validate_name(name: str, what: str = "user name") -> str:
    """``name`` if it matches :data:`NAME_PATTERN`, else :class:`InvalidNameError`."""
    if not NAME_PATTERN.match(name):
        raise InvalidNameError(
            f"invalid {what} {name!r}: use 2 to 32 characters, a lower-case letter first, "
            "then lower-case letters, digits, '_', '.' or '-'"
        )
    return name
