"""A small RPC endpoint over a stream: requests in both directions, concurrent, matched by id.

Both ends of the host ↔ isolated-plugin socket run one. ``{"id": n, "op": ...}`` is a request,
answered by ``{"reply": n, "ok": true, "result": ...}`` or ``{"reply": n, "ok": false, "type":
..., "error": ...}``; a message with an ``op`` and no ``id`` is a notification, handled in the
read loop itself, so it takes effect before any later message (an upsert before the publish
that follows it). Requests are handled in their own tasks, so a slow one never blocks the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from gateway.host.process.wire import FrameDecoder, FrameError, Message, encode

log = structlog.get_logger("anfang.isolation")

Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]
"""Serves one incoming request or notification: ``(op, params)`` to a JSON-able result."""

READ_SIZE = 256 * 1024
TRACEBACK_CHARS = 4000


class RemoteError(Exception):
    """The peer's handler raised; ``type_name`` is the class name of what it raised."""

    def __init__(self, type_name: str, message: str, remote_traceback: str = "") -> None:
        super().__init__(message)
        self.type_name = type_name
        self.remote_traceback = remote_traceback

    def __str__(self) -> str:
        return f"{self.type_name}: {self.args[0]}"


class PeerGoneError(ConnectionError):
    """The link closed before the answer came (the other process exited or crashed)."""


class Endpoint:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: Handler,
        *,
        name: str,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._name = name
        self._decoder = FrameDecoder()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once the read loop ended or :meth:`close` was called: requests fail at once."""
        return self._closed

    # -- sending -------------------------------------------------------------------------------

    async def request(self, op: str, **params: Any) -> Any:
        """Send a request and wait for its answer.

        Raises RemoteError when the peer's handler raised, PeerGoneError when the link closed.
        """
        if self._closed:
            raise PeerGoneError(f"{self._name}: link closed")
        if "id" in params:
            raise ValueError("'id' is reserved for the request id")
        n = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[n] = future
        try:
            self._writer.write(encode({"id": n, "op": op, **params}))
            await self._writer.drain()
            return await future
        except PeerGoneError:
            raise
        except ConnectionError as exc:
            raise PeerGoneError(f"{self._name}: {exc}") from exc
        finally:
            self._pending.pop(n, None)

    def notify(self, op: str, **params: Any) -> None:
        """Send a notification: no answer; the peer handles it before any later message."""
        if self._closed:
            raise PeerGoneError(f"{self._name}: link closed")
        if "id" in params:
            raise ValueError("'id' is reserved for the request id")
        self._writer.write(encode({"op": op, **params}))

    # -- receiving -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Read and dispatch until the peer closes the link.

        Returns at EOF; raises FrameError on a malformed frame and whatever a notification
        handler raised. Either way the endpoint is closed for requests afterwards.
        """
        try:
            while True:
                try:
                    data = await self._reader.read(READ_SIZE)
                except OSError:  # connection reset: the same as EOF here
                    data = b""
                if not data:
                    if self._decoder.pending:
                        log.warning("link closed mid-frame", link=self._name)
                    return
                for message in self._decoder.feed(data):
                    await self._dispatch(message)
        finally:
            self._closed = True
            self._fail_pending()

    async def _dispatch(self, message: Message) -> None:
        if "reply" in message:
            future = self._pending.get(message["reply"])
            if future is None or future.done():
                return  # the requester gave up (cancelled or timed out)
            if message.get("ok"):
                future.set_result(message.get("result"))
            else:
                future.set_exception(
                    RemoteError(
                        str(message.get("type", "Exception")),
                        str(message.get("error", "")),
                        str(message.get("traceback", "")),
                    )
                )
            return
        op = message.pop("op", None)
        if not isinstance(op, str):
            raise FrameError("message has neither an op nor a reply")
        n = message.pop("id", None)
        if n is None:
            await self._handler(op, message)
            return
        task = asyncio.create_task(self._serve(n, op, message), name=f"{self._name}:{op}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, n: Any, op: str, params: dict[str, Any]) -> None:
        try:
            result = await self._handler(op, params)
            frame = encode({"reply": n, "ok": True, "result": result})
        except Exception as exc:
            frame = encode(
                {
                    "reply": n,
                    "ok": False,
                    "type": type(exc).__name__,
                    "error": str(exc)[:TRACEBACK_CHARS],
                    "traceback": "".join(traceback.format_exception(exc))[-TRACEBACK_CHARS:],
                }
            )
        if self._writer.is_closing():
            return
        self._writer.write(frame)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PeerGoneError(f"{self._name}: link closed"))

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the link, cancel requests being served and fail requests awaiting answers."""
        self._closed = True
        self._fail_pending()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
