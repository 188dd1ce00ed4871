"""One TCP connection to one receiver path: send a frame, read the answer; nothing more.

DC-09 has one message outstanding per connection (the receiver answers in order and a panel
waits for each answer), so an exchange holds the connection's lock from send to answer, and
the connection is kept open between messages. A timeout or a broken connection closes it, so a
late answer can never be read as the answer to the next message. A connection the receiver
closed while it sat idle (receivers drop silent panels) is re-opened once within the same
attempt rather than counted as a failure of the path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

MAX_ANSWER = 4096
"""Longest answer read: DC-09's length field caps a message at 4095 bytes plus framing."""


class LinkError(Exception):
    """The attempt failed: no connection, no answer in time, or the connection broke."""


class PathLink:
    def __init__(self, host: str, port: int, counters: Counter[str]) -> None:
        self.host = host
        self.port = port
        self._counters = counters
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def exchange(self, frame: bytes, timeout: float) -> bytes:
        """The receiver's answer to ``frame`` (LF … CR), within ``timeout`` seconds in all."""
        async with self._lock:
            try:
                async with asyncio.timeout(timeout):
                    return await self._exchange(frame)
            except TimeoutError:
                self._drop()
                raise LinkError(
                    f"no answer from {self.host}:{self.port} within {timeout:g} s"
                ) from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self._drop()
                raise LinkError(f"{self.host}:{self.port}: {type(exc).__name__}: {exc}") from None

    async def _exchange(self, frame: bytes) -> bytes:
        reused = self.connected
        if not reused:
            await self._connect()
        try:
            return await self._send(frame)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self._counters["link_reconnects_idle_closed"] += 1
            self._drop()
            await self._connect()
            return await self._send(frame)

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            self.host, self.port, limit=MAX_ANSWER
        )
        self._counters["link_connects"] += 1

    async def _send(self, frame: bytes) -> bytes:
        assert self._reader is not None and self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()
        answer = await self._reader.readuntil(b"\r")
        return answer.lstrip(b"\x00")  # trailing NULs of a previous answer (some receivers)

    def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.transport.abort()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            if not writer.transport.is_closing():
                writer.transport.abort()
