"""The HTTP side: accept connections, read one request each, write the handler's response.

It knows HTTP only through :mod:`.http11` and nothing of webhooks: the plugin's handler decides
the answer, and returns only once the event is durable, so a ``202`` always means stored. A
request that does not arrive in ``read_timeout_s`` gets ``408``; a handler that fails (the
journal cannot write) gets ``503`` so the sender retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .http11 import CONTINUE, HttpError, Request, RequestParser, Response, error

Handler = Callable[[Request], Awaitable[Response]]

READ_SIZE = 65536
LINGER_S = 1.0
"""After answering, how long unread request bytes are drained so the client gets the response
rather than a connection reset."""
log = logging.getLogger(__name__)


class HttpServer:
    """A small HTTP/1.1 server; ``port`` is the bound port once started."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        max_body: int,
        read_timeout_s: float = 10.0,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._max_body = max_body
        self._read_timeout_s = read_timeout_s
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self._host, self._port)

    async def close(self) -> None:
        """Stop listening and drop open connections (senders retry what got no 202)."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            response = await self._respond(reader, writer)
            if response is not None:
                writer.write(response.encode())
                await writer.drain()
                writer.write_eof()
                await _linger(reader)
        except ConnectionError:
            pass  # the client went away
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Response | None:
        parser = RequestParser(self._max_body)
        try:
            async with asyncio.timeout(self._read_timeout_s):
                request = await _read(reader, writer, parser)
        except HttpError as exc:
            return error(exc.status, str(exc))
        except TimeoutError:
            return error(408, "the request did not arrive in time")
        if request is None:
            return None  # closed before a whole request: nothing to answer
        try:
            return await self._handler(request)
        except Exception:  # the journal could not write: no 2xx, the sender retries
            log.exception("request failed")
            return error(503, "the event could not be stored; retry")


async def _read(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: RequestParser
) -> Request | None:
    while data := await reader.read(READ_SIZE):
        request = parser.feed(data)
        if request is not None:
            return request
        if parser.take_continue():
            writer.write(CONTINUE)
    return None


async def _linger(reader: asyncio.StreamReader) -> None:
    """Read and drop what the client still sends until it closes, for at most LINGER_S."""
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(LINGER_S):
            while await reader.read(READ_SIZE):
                pass
