"""Who may do what: users with passwords, bearer tokens, roles and login lockout."""

from gateway.auth.model import (
    NAME_PATTERN,
    AuthError,
    InvalidNameError,
    LockoutPolicy,
    LoginRefused,
    Principal,
    TokenInfo,
    UnknownTokenError,
    UnknownUserError,
    UserExistsError,
    UserInfo,
    validate_name,
)
from gateway.auth.passwords import (
    WeakPasswordError,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from gateway.auth.roles import Role
from gateway.auth.sessions import COOKIE, CSRF_HEADER, Session, SessionStore
from gateway.auth.store import ADMIN_TOKEN_FILE, AuthStore

__all__ = [
    "ADMIN_TOKEN_FILE",
    "COOKIE",
    "CSRF_HEADER",
    "NAME_PATTERN",
    "AuthError",
    "AuthStore",
    "InvalidNameError",
    "LockoutPolicy",
    "LoginRefused",
    "Principal",
    "Role",
    "Session",
    "SessionStore",
    "TokenInfo",
    "UnknownTokenError",
    "UnknownUserError",
    "UserExistsError",
    "UserInfo",
    "WeakPasswordError",
    "check_password",
    "hash_password",
    "needs_rehash",
    "validate_name",
    "verify_password",
]
