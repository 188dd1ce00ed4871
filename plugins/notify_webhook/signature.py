"""The outbound signature: the scheme Anfang's inbound webhook (contrib/webhook) checks.

``X-Anfang-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with a shared secret, so one
Anfang can notify another. The signature covers the body only; the body carries its own
``sent_at`` and request ``id``, so a receiver can refuse stale bodies (a replay) and drop
repeats (a retry) without trusting any unsigned header.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Anfang-Signature"
PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value for ``body``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` authenticates ``body`` (constant-time compare): for receivers."""
    if header is None:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().lower().encode())
