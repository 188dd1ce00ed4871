"""Who is asking: bearer tokens checked against the auth store, roles enforced per route.

Missing or wrong credentials are 401 with ``WWW-Authenticate``; a role too low is 403. Both are
counted; neither says whether a token ever existed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, WebSocket

from gateway.auth import AuthStore, Principal, Role

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="anfang"'}


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


def require(required: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller, who must hold at least ``required``."""

    async def dependency(request: Request) -> Principal:
        state = request.app.state
        principal = _authenticate(state.auth, request.headers.get("authorization"), state.counters)
        return _authorize(principal, required, state.counters)

    dependency.required_role = required  # type: ignore[attr-defined]  # read by the route table
    return dependency


def require_ws(required: Role) -> Callable[[WebSocket], Awaitable[Principal]]:
    async def dependency(websocket: WebSocket) -> Principal:
        state = websocket.app.state
        principal = _authenticate(
            state.auth, websocket.headers.get("authorization"), state.counters
        )
        return _authorize(principal, required, state.counters)

    dependency.required_role = required  # type: ignore[attr-defined]
    return dependency
