"""The request signature: HMAC-SHA256 of the raw body with a shared secret, in one header.

``X-Anfang-Signature: sha256=<64 hex digits>``. The comparison is constant-time
(``hmac.compare_digest``) so a sender cannot learn the right signature byte by byte. The
signature covers the body only: send over TLS (a reverse proxy in front) so it cannot be
captured and replayed.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Anfang-Signature"
PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value a sender puts on ``body``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> str | None:
    """None when the header authenticates the body; otherwise why it does not."""
    if header is None:
        return f"missing {HEADER} header (sha256=<HMAC-SHA256 of the body, hex>)"
    if not header.startswith(PREFIX):
        return f"{HEADER} must start with {PREFIX!r}"
    expected = sign(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, header.strip().lower().encode("utf-8", "replace")):
        return f"{HEADER} does not match the body (wrong secret, or the body was changed)"
    return None
