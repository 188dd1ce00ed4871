"""Password rules and hashing: no weak passwords, and none equal to the user name (§6.6.4).

Every refusal names its rule, so the person choosing the password knows what to change.
Hashes are argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB,
3 passes, 4 lanes; about 0.15 s), so a stolen state database is slow to attack.
"""

from __future__ import annotations

import threading
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped,unused-ignore]

MIN_LENGTH = 8
MAX_LENGTH = 1024
"""Long passphrases are welcome; a megabyte is not a password, only work for the hasher."""

MIN_SCORE = 3
"""zxcvbn's score runs 0..4; 3 is "safely unguessable" (about 10^8 guesses or more)."""

ZXCVBN_MAX_LENGTH = 72
"""zxcvbn refuses longer input (its matching is quadratic); the first 72 characters are rated."""

_HASHER = argon2.PasswordHasher()
_ZXCVBN_LOCK = threading.Lock()  # zxcvbn keeps user_inputs in a module-global dictionary


class WeakPasswordError(ValueError):
    """A password refused by one rule; ``code`` names the rule for programs, the text for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_password(user: str, password: str) -> None:
    """Raise :class:`WeakPasswordError` for the first rule ``password`` breaks, else return."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            "too_short", f"the password is shorter than {MIN_LENGTH} characters"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError("too_long", f"the password is longer than {MAX_LENGTH} characters")
    if not any(c.isalpha() for c in password):
        raise WeakPasswordError("no_letter", "the password has no letter")
    if not any(c.isdigit() for c in password):
        raise WeakPasswordError("no_digit", "the password has no digit")
    if user and user.casefold() in password.casefold():
        raise WeakPasswordError("contains_user", "the password contains the user name")
    with _ZXCVBN_LOCK:
        rating: dict[str, Any] = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[user])
    score = int(rating["score"])
    if score < MIN_SCORE:
        warning = str(rating.get("feedback", {}).get("warning") or "").rstrip(".")
        why = f": {warning[0].lower()}{warning[1:]}" if warning else ""
        raise WeakPasswordError(
            "guessable", f"the password is too easy to guess (strength {score} of 4){why}"
        )


def hash_password(password: str) -> str:
    """An argon2id hash in PHC string form (algorithm, parameters and salt included)."""
    return _HASHER.hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """Whether ``password`` matches ``encoded``; a malformed hash is a mismatch, not a crash."""
    try:
        return _HASHER.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """Whether ``encoded`` was made with weaker parameters than today's; rehash after a login."""
    try:
        return _HASHER.check_needs_rehash(encoded)
    except InvalidHashError:
        return True


_DUMMY: list[str] = []


def burn_verify(password: str) -> None:
    """Spend a verification's time for an unknown user, so timing does not tell who exists."""
    if not _DUMMY:
        _DUMMY.append(hash_password("anfang-dummy-0"))
    verify_password(_DUMMY[0], password)
