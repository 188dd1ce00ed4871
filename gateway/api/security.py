"""Who is asking: a bearer token, or a browser session cookie; roles enforced per route.

Missing or wrong credentials are 401 with ``WWW-Authenticate``; a role too low is 403. Both are
counted; neither says whether a token ever existed. A write made with a session cookie must
carry the session's CSRF token in ``X-CSRF-Token`` (another site cannot read it), else 403.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request, WebSocket
from starlette.requests import HTTPConnection

from gateway.auth import COOKIE, CSRF_HEADER, AuthStore, Principal, Role

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="anfang"'}


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _from_session(
    state: Any, cookie: str | None, method: str, csrf: str | None
) -> Principal | None:
    """The principal of a live session cookie (None without one); CSRF checked on writes."""
    if not cookie:
        return None
    session = state.sessions.get(cookie)
    user = state.auth.user(session.user) if session is not None else None
    if session is None or user is None or user.disabled:
        state.counters["auth_refused"] += 1
        raise HTTPException(401, "the session has ended; log in again", CHALLENGE)
    if method in UNSAFE and not session.csrf_matches(csrf):
        state.counters["csrf_refused"] += 1
        raise HTTPException(403, f"CSRF token missing or wrong: send {CSRF_HEADER}")
    return Principal(user.name, user.role, "session")


def _authenticate(store: AuthStore, header: str | None, counters: Counter[str]) -> Principal:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        counters["auth_missing"] += 1
        raise HTTPException(
            401, "credentials are missing: send 'Authorization: Bearer <token>'", CHALLENGE
        )
    principal = store.verify_token(token.strip())
    if principal is None:
        counters["auth_refused"] += 1
        raise HTTPException(401, "the token is not valid (unknown, revoked or disabled)", CHALLENGE)
    return principal


def _authorize(principal: Principal, required: Role, counters: Counter[str]) -> Principal:
    if not principal.role.allows(required):
        counters["auth_forbidden"] += 1
        raise HTTPException(
            403,
            f"this needs the {required.value} role; {principal.name} has {principal.role.value}",
        )
    return principal


def _caller(conn: HTTPConnection, method: str, required: Role) -> Principal:
    """A bearer token when one is sent, else the session cookie; then the role check."""
    state = conn.app.state
    header = conn.headers.get("authorization")
    principal = None
    if header is None:
        principal = _from_session(
            state, conn.cookies.get(COOKIE), method, conn.headers.get(CSRF_HEADER)
        )
    if principal is None:
        principal = _authenticate(state.auth, header, state.counters)
    return _authorize(principal, required, state.counters)


def require(required: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller, who must hold at least ``required``."""

    async def dependency(request: Request) -> Principal:
        return _caller(request, request.method, required)

    return dependency


def require_ws(required: Role) -> Callable[[WebSocket], Awaitable[Principal]]:
    """The same for a WebSocket (opened by a GET: no CSRF token needed)."""

    async def dependency(websocket: WebSocket) -> Principal:
        return _caller(websocket, "GET", required)

    return dependency
