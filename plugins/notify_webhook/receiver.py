"""A hand-written HTTP/1.1 receiver on 127.0.0.1: the peer of the kit's exercises and the tests.

Hand-written because the real peer of a webhook or an SMS gateway is whatever the customer
runs; this one does what such a receiver does — checks the signature when given the secret —
and what a test needs: it keeps every request and can be told to fail the next N. One request
per connection (it answers ``Connection: close``), Content-Length bodies only, runs in the
caller's event loop (no thread to outlive a test).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from plugins.notify_webhook.signature import HEADER, verify

HEAD_MAX = 64 * 1024
BODY_MAX = 1024 * 1024


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes
    at: float = field(default_factory=time.monotonic)
    """When it arrived (monotonic clock)."""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


Responder = Callable[[Received], tuple[int, bytes]]


class HttpReceiver:
    def __init__(self, *, secret: bytes | None = None, respond: Responder | None = None) -> None:
        self.secret = secret
        """When set, a request without a valid X-Anfang-Signature is answered 401."""
        self.respond = respond or (lambda _: (200, b'{"ok": true}'))
        self.requests: list[Received] = []
        """Every request that reached the responder (failed-on-purpose ones included)."""
        self.refused_signatures = 0
        self._fail: list[tuple[int, str | None]] = []
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        self.port = 0

    async def start(self, port: int = 0) -> HttpReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, times: int, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (after keeping them), with a
        ``Retry-After`` header when given."""
        self._fail.extend([(status, retry_after)] * times)

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return list(self.requests)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read(reader)
            if request is None:
                return
            status, body, retry_after = self._answer(request)
            async with self._arrived:
                self.requests.append(request)
                self._arrived.notify_all()
            extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, request: Received) -> tuple[int, bytes, str | None]:
        if self.secret is not None and not verify(
            self.secret, request.body, request.headers.get(HEADER.lower())
        ):
            self.refused_signatures += 1
            return 401, b'{"error": "signature"}', None
        if self._fail:
            status, retry_after = self._fail.pop(0)
            return status, b'{"error": "failing on purpose"}', retry_after
        return (*self.respond(request), None)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received | None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > HEAD_MAX:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(min(length, BODY_MAX))
        return Received(method, target, headers, body)
