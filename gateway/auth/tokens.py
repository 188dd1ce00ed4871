"""Bearer API tokens: ``anf_<id>_<secret>``, of which only a SHA-256 hash is ever stored.

A plain SHA-256 (not argon2) is enough here, and right: the secret is 256 random bits from
``secrets``, so there is no dictionary to try and nothing a slow hash would protect — a stolen
hash cannot be turned back into a token — while a fast hash keeps checking a token on every API
request cheap. Passwords, chosen by people, get argon2 instead (see ``passwords``).

The ``id`` is eight hex digits, random and not secret: it is what ``anfang users list`` shows
and what revocation names, and it lets a token be found without searching by its hash. The
secret part is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "anf_"
"""Marks the string as an Anfang token, for people and for secret scanners alike."""

SECRET_BYTES = 32
_TOKEN = re.compile(r"^anf_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: ``plain`` is shown once and then forgotten; ``digest`` is kept."""

    id: str
    plain: str
    digest: str


def new_token(taken: set[str] | frozenset[str] = frozenset()) -> NewToken:
    """A random token whose id is not in ``taken``."""
    token_id = secrets.token_hex(4)
    while token_id in taken:
        token_id = secrets.token_hex(4)
    plain = f"{PREFIX}{token_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewToken(token_id, plain, digest(plain))


def digest(plain: str) -> str:
    """The stored form of a token: SHA-256 in hex."""
    return hashlib.sha256(plain.encode()).hexdigest()


def token_id(plain: str) -> str | None:
    """The id inside a well-formed token, or None for anything else."""
    match = _TOKEN.match(plain)
    return match.group(1) if match else None


def matches(plain: str, stored_digest: str) -> bool:
    """Whether ``plain`` hashes to ``stored_digest``, compared in constant time."""
    return hmac.compare_digest(digest(plain), stored_digest)


def display(token_id: str) -> str:
    """How a token is shown without its secret: ``anf_1a2b3c4d_…``."""
    return f"{PREFIX}{token_id}_…"
