"""The FastAPI application: every path under ``/api/v1/``, problem-detail errors, the routers."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import __version__
from gateway.api import problems
from gateway.api.routes import (
    admin,
    commands,
    events,
    incidents,
    metrics,
    records,
    registry,
    session,
    status,
)
from gateway.auth import AuthStore, SessionStore
from gateway.journal.thread_reads import ThreadedReads

if TYPE_CHECKING:
    from gateway.host.gateway import Gateway

MAX_BODY_BYTES = 64 * 1024
"""No request the API takes is anywhere near this; anything larger is refused unread (413)."""

OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/openapi.json", "/api/v1/session"})
"""Reachable without credentials; everything else needs a token."""


class BodyLimit:
    """Refuses a request body over the limit before the application reads it: by its
    Content-Length when sent, else by counting what arrives (chunked uploads)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(413, str(_TooLarge(self.max_bytes).detail))
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """An HTTPException so that FastAPI, reading the body, passes it on as it is (any other
    exception there becomes a 400 "error parsing the body") and it leaves as a 413 problem."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request bodies are limited to {max_bytes} bytes")


def create_app(gateway: Gateway, auth: AuthStore, *, https: bool = False) -> FastAPI:
    app = FastAPI(
        title="Anfang gateway",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.state.reads = ThreadedReads(gateway.journal.db_path)
    app.state.auth = auth
    app.state.sessions = SessionStore(gateway.statedb)
    app.state.https = https
    app.state.pending_commands = set()
    app.state.counters = Counter()
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    modules = (status, session, metrics, events, registry, commands, incidents, records, admin)
    for module in modules:
        app.include_router(module.router)
    return app
