"""Browser sessions: an HttpOnly cookie for the browser, a CSRF token for its writes.

A browser cannot put a bearer token on an EventSource or WebSocket without exposing it to
scripts and URLs, so after ``POST /api/v1/session`` it holds an HttpOnly, SameSite=Strict
cookie instead. Writes made with that cookie must also carry the session's CSRF token in a
header, which another site cannot read. Only a digest of the cookie's secret is stored; the role
is read from the user at each request, so disabling a user ends their sessions at once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.auth.tokens import digest
from gateway.model.common import utcnow
from gateway.registry.statedb import StateDB

NAMESPACE = "auth:session"
COOKIE = "anfang_session"
CSRF_HEADER = "X-CSRF-Token"
IDLE = timedelta(hours=8)
ABSOLUTE = timedelta(hours=24)


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str
    created_at: datetime

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf)


class SessionStore:
    def __init__(
        self,
        state: StateDB,
        clock: Callable[[], datetime] = utcnow,
        *,
        idle: timedelta = IDLE,
        absolute: timedelta = ABSOLUTE,
    ) -> None:
        self._state = state
        self._clock = clock
        self._idle = idle
        self._absolute = absolute

    def create(self, user: str) -> tuple[str, Session]:
        """A new session for ``user``: the cookie's secret (returned once) and the session."""
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(user, secrets.token_urlsafe(24), now)
        self._state.put(NAMESPACE, digest(secret), _record(session, now))
        return secret, session

    def get(self, secret: str) -> Session | None:
        """The live session for a cookie, or None (unknown, idle too long, or too old)."""
        key = digest(secret)
        record: dict[str, Any] | None = self._state.get(NAMESPACE, key)
        if record is None:
            return None
        now = self._clock()
        created = datetime.fromisoformat(record["created_at"])
        last = datetime.fromisoformat(record["last_used"])
        if now - last > self._idle or now - created > self._absolute:
            self._state.delete(NAMESPACE, key)
            return None
        session = Session(record["user"], record["csrf"], created)
        if now - last > timedelta(minutes=1):  # keep it alive without a write per request
            self._state.put(NAMESPACE, key, _record(session, now))
        return session

    def end(self, secret: str) -> None:
        self._state.delete(NAMESPACE, digest(secret))


def _record(session: Session, last_used: datetime) -> dict[str, str]:
    return {
        "user": session.user,
        "csrf": session.csrf,
        "created_at": session.created_at.isoformat(),
        "last_used": last_used.isoformat(),
    }
