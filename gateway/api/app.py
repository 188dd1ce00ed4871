"""The FastAPI application: every path under ``/api/v1/``, problem-detail errors, the routers."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from fastapi import FastAPI

from gateway import __version__
from gateway.api import problems
from gateway.api.routes import (
    admin,
    commands,
    events,
    metrics,
    records,
    registry,
    session,
    status,
)
from gateway.auth import AuthStore, SessionStore

if TYPE_CHECKING:
    from gateway.host.gateway import Gateway

OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/openapi.json", "/api/v1/session"})
"""Reachable without credentials; everything else needs a token."""


def create_app(gateway: Gateway, auth: AuthStore, *, https: bool = False) -> FastAPI:
    app = FastAPI(
        title="Anfang gateway",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.state.auth = auth
    app.state.sessions = SessionStore(gateway.statedb)
    app.state.https = https
    app.state.pending_commands = set()
    app.state.counters = Counter()
    problems.install(app)
    for module in (status, session, metrics, events, registry, commands, records, admin):
        app.include_router(module.router)
    return app
