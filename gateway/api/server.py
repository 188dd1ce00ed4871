"""uvicorn inside the gateway's own event loop, without touching its signal handling."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from gateway.config.schema import ApiConfig

log = structlog.get_logger("anfang.api")


class ApiStartError(OSError):
    """The API could not listen where the config says; the message says what to change."""


def bind(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound here so that a taken port is an error that names the
    setting to change, not uvicorn's log line and exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ApiStartError(
            f"the API cannot listen on {host}:{port}: {exc.strerror or exc}. Set api.port (or "
            "api.host) in anfang.yaml to a free one, or turn the API off with "
            "api: {enabled: false}"
        ) from None
    return sock


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The gateway owns SIGINT/SIGTERM/SIGHUP; uvicorn must not replace them."""
        yield


class ApiServer:
    def __init__(self, app: FastAPI, config: ApiConfig) -> None:
        self.app = app
        self._config = config
        self._server = _Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                lifespan="off",
                log_config=None,
                access_log=False,
                ssl_certfile=str(config.certfile) if config.certfile else None,
                ssl_keyfile=str(config.keyfile) if config.keyfile else None,
                timeout_graceful_shutdown=2,
                http="h11",  # its limits below; never whichever parser happens to be installed
                h11_max_incomplete_event_size=64 * 1024,
                ws_per_message_deflate=config.ws_compression,
            )
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked for port 0)."""
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self._config.port

    async def start(self) -> None:
        try:
            sock = bind(self._config.host, self._config.port)
        except ApiStartError:
            self.app.state.reads.close()
            raise
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="api-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start (port in use, bad cert)
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.01)
        scheme = "https" if self._config.certfile else "http"
        log.info("API listening", url=f"{scheme}://{self._config.host}:{self.port}/api/v1/")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, 5)
        except TimeoutError:
            self._task.cancel()
        self._task = None
        self.app.state.reads.close()
