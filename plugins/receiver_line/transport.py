"""The links to the receiver: TCP client, TCP server and serial. They move bytes only.

Each link turns its connection into a stream pair and hands it to :func:`converse`, which
cuts lines with the sans-IO splitter and writes each answer before reading the next line
(the receiver sends one line and waits for its answer). A link that breaks is made again
after ``reconnect_s`` for as long as the plugin runs: a receiver rebooting, a cable pulled, a
USB adapter unplugged and put back — none of them ends the task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import serial_asyncio_fast
import structlog

from plugins.receiver_line.config import LineConfig
from plugins.receiver_line.errors import LineError
from plugins.receiver_line.splitter import LineSplitter

log = structlog.get_logger("anfang.plugin.receiver_line")

Handle = Callable[[bytes | LineError], Awaitable[bytes | None]]

READ_SIZE = 4096
CONNECT_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 10.0
"""An answer the peer does not take within this long means the link is dead: it is dropped
and made again (the receiver repeats what it did not get answered)."""


async def converse(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handle: Handle,
    counters: Counter[str],
    max_line: int,
) -> None:
    """Read lines and answer them, in order, until the peer goes away."""
    splitter = LineSplitter(max_line)
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            return
        for item in splitter.feed(data):
            counters["lines"] += 1
            answer = await handle(item)
            if answer is None:
                continue
            writer.write(answer)
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):  # a peer that never reads cannot hold the close
            await writer.wait_closed()
    if not writer.transport.is_closing() or writer.transport.get_write_buffer_size():
        writer.transport.abort()


class Link:
    """What the three links share: the conversation, counting, and the connected flag."""

    name = "link"

    def __init__(self, config: LineConfig, handle: Handle, counters: Counter[str]) -> None:
        self.config = config
        self._handle = handle
        self.counters = counters
        self.connected = asyncio.Event()
        """Set while a receiver is connected (a test's and the status page's view)."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        self.counters[f"{self.name}_connections"] += 1
        try:
            await converse(reader, writer, self._handle, self.counters, self.config.max_line)
            self.counters[f"{self.name}_closed_by_peer"] += 1
        except (OSError, TimeoutError) as exc:  # pyserial's SerialException is an OSError
            self.counters[f"{self.name}_errors"] += 1
            log.warning("receiver link broke", link=self.name, error=str(exc) or repr(exc))
        finally:
            self.connected.clear()
            await _close(writer)


class TcpClientLink(Link):
    """Connects to the receiver's automation port (System III / System 5: TCP 1025)."""

    name = "tcp_client"

    async def run(self) -> None:
        c = self.config
        while True:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    reader, writer = await asyncio.open_connection(c.host, c.tcp_port)
            except (OSError, TimeoutError) as exc:
                self.counters["connect_failures"] += 1
                log.info("receiver not reachable", host=c.host, port=c.tcp_port, error=str(exc))
            else:
                await self._serve(reader, writer)
            await asyncio.sleep(c.reconnect_s)


class TcpServerLink(Link):
    """Listens for a receiver (or its serial-to-IP converter) that connects out.

    One receiver per instance: a new connection replaces the one before it, which a receiver
    that reconnects has abandoned (a half-open socket would otherwise hold the line).
    """

    name = "tcp_server"

    def __init__(self, config: LineConfig, handle: Handle, counters: Counter[str]) -> None:
        super().__init__(config, handle, counters)
        self._server: asyncio.Server | None = None
        self._current: asyncio.Task[Any] | None = None
        self.port = 0

    async def start(self) -> None:
        c = self.config
        self._server = await asyncio.start_server(self._accept, c.host, c.tcp_port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        previous, self._current = self._current, asyncio.current_task()
        if previous is not None and not previous.done():
            self.counters["tcp_server_replaced"] += 1
            previous.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await previous
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            pass  # replaced or stopping: the receiver repeats what was not answered
        except Exception:  # one connection's trouble never takes the listener down
            self.counters["tcp_server_errors"] += 1
            log.exception("receiver connection failed")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        current, self._current = self._current, None
        if current is not None and not current.done():
            current.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await current
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


class SerialLink(Link):
    """A local serial port (RS-232 from the receiver's COM/automation port)."""

    name = "serial"

    async def run(self) -> None:
        c = self.config
        while True:
            try:
                reader, writer = await serial_asyncio_fast.open_serial_connection(
                    url=c.serial_port,
                    baudrate=c.baudrate,
                    bytesize=c.bytesize,
                    parity=c.parity,
                    stopbits=c.stopbits,
                )
            except OSError as exc:  # SerialException included
                self.counters["open_failures"] += 1
                log.info("serial port not available", port=c.serial_port, error=str(exc))
            else:
                await self._serve(reader, writer)
            await asyncio.sleep(c.reconnect_s)
