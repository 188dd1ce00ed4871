"""TCP and UDP listeners: move bytes between panels and the receiver, nothing more.

TCP connections are cut into frames by the sans-IO splitter (several frames per read, a frame
split across reads) and answered in order. Limits keep one misbehaving sender from hurting the
rest: a connection cap overall and per address, an idle timeout (slowloris), the frame size
limit, and a cap on UDP datagrams being handled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from plugins.sia_dc09.dc09 import Dc09Error, FrameSplitter, crc_format

log = structlog.get_logger("anfang.plugin.sia_dc09")

Handle = Callable[[bytes], Awaitable[bytes | None]]
Refuse = Callable[[Dc09Error], bytes]

READ_SIZE = 4096
MAX_UDP_IN_FLIGHT = 1000
MAX_REFUSALS = 20
"""A TCP connection that sends this many bad frames in a row is closed (a panel would not)."""
MAX_BACKLOG = 4096
"""The listen queue is as long as the connection limit, up to this (Linux's default
``somaxconn``). After a receiver restart every panel reconnects at once; asyncio's default
queue of 100 drops the SYNs beyond it, and those panels wait out TCP's 1 s, 3 s, 7 s retries
(measured: 1,000 panels reconnecting gave an ACK p99 of 3.6 s)."""


def looks_like_frame(data: bytes) -> bool:
    """A cheap first look at a datagram: CRC, ``0LLL`` and the opening quote where DC-09 puts
    them. Over UDP anything else is dropped unanswered, so the receiver cannot be used to
    reflect traffic at a spoofed address."""
    body = data.lstrip(b"\n")
    layout = crc_format(body)
    return layout == "binary" or (layout == "hex" and body[4:5] == b"0")


class TcpListener:
    def __init__(
        self,
        handle: Handle,
        refuse: Refuse,
        counters: Counter[str],
        *,
        max_frame: int,
        binary_crc: bool,
        max_connections: int,
        max_per_address: int,
        idle_timeout_s: float,
    ) -> None:
        self._handle = handle
        self._refuse = refuse
        self._counters = counters
        self._max_frame = max_frame
        self._binary_crc = binary_crc
        self._max_connections = max_connections
        self._max_per_address = max_per_address
        self._idle_timeout_s = idle_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._per_address: Counter[str] = Counter()
        self.port = 0

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def start(self, host: str, port: int) -> None:
        backlog = min(self._max_connections, MAX_BACKLOG)
        self._server = await asyncio.start_server(self._accept, host, port, backlog=backlog)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        if len(self._connections) >= self._max_connections:
            self._counters["tcp_refused_connection_limit"] += 1
            writer.close()
            return
        if self._per_address[address] >= self._max_per_address:
            self._counters["tcp_refused_address_limit"] += 1
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._per_address[address] += 1
        self._counters["tcp_connections"] += 1
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Closing: end quietly (asyncio asks this task for its exception afterwards). A
            # frame whose publish was cut short got no ACK, so the panel sends it again.
            self._counters["tcp_closed_by_stop"] += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            self._counters["tcp_reset"] += 1
        except Exception:  # one connection's trouble never takes the listener down
            self._counters["tcp_errors"] += 1
            log.exception("TCP connection handling failed", peer=address)
        finally:
            self._connections.discard(task)
            self._per_address[address] -= 1
            if not self._per_address[address]:
                del self._per_address[address]
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):  # a peer that never reads cannot hold the close
                    await writer.wait_closed()
            if not writer.transport.is_closing() or writer.transport.get_write_buffer_size():
                writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        splitter = FrameSplitter(self._max_frame, binary_crc=self._binary_crc)
        refusals = 0  # refused frames in a row
        idle = IdleWatch(self._idle_timeout_s, writer.transport.abort)  # slowloris, dead peers
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    if idle.fired:
                        self._counters["tcp_idle_closed"] += 1
                    return
                idle.touch()
                for item in splitter.feed(data):
                    if isinstance(item, Dc09Error):
                        refusals += 1
                        response: bytes | None = self._refuse(item)
                    else:
                        response = await self._handle(item)
                        refusals = refusals + 1 if response and b'"NAK"' in response[:16] else 0
                    if response is None:
                        continue
                    writer.write(response)
                    if writer.transport.get_write_buffer_size() and not await self._drained(writer):
                        return
                if refusals >= MAX_REFUSALS:
                    self._counters["tcp_closed_garbage"] += 1
                    return
        finally:
            idle.cancel()

    async def _drained(self, writer: asyncio.StreamWriter) -> bool:
        """Wait for a peer that is slow to read our answers; False (and the connection
        aborted) when it does not read at all. Most answers leave at once and skip this."""
        try:
            async with asyncio.timeout(self._idle_timeout_s):
                await writer.drain()
        except TimeoutError:
            self._counters["tcp_write_stalled"] += 1
            writer.transport.abort()
            return False
        return True


class IdleWatch:
    """Calls ``on_idle`` once nothing was received for ``idle_s``.

    One timer per connection, re-armed only when it fires, and activity merely notes the time:
    a timeout around every read cost two timer operations per frame, a measurable share of a
    busy receiver's time.
    """

    def __init__(self, idle_s: float, on_idle: Callable[[], object]) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle_s = idle_s
        self._on_idle = on_idle
        self._last = self._loop.time()
        self.fired = False
        self._timer = self._loop.call_later(idle_s, self._check)

    def touch(self) -> None:
        self._last = self._loop.time()

    def _check(self) -> None:
        quiet = self._loop.time() - self._last
        if quiet >= self._idle_s:
            self.fired = True
            self._on_idle()
        else:
            self._timer = self._loop.call_later(self._idle_s - quiet, self._check)

    def cancel(self) -> None:
        self._timer.cancel()


class UdpListener(asyncio.DatagramProtocol):
    """One datagram is one frame; the answer goes back to the sender's address."""

    def __init__(self, handle: Handle, refuse: Refuse, counters: Counter[str]) -> None:
        self._handle = handle
        self._refuse = refuse
        self._counters = counters
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not looks_like_frame(data):
            self._counters["udp_ignored_not_a_frame"] += 1
            return
        if len(self._tasks) >= MAX_UDP_IN_FLIGHT:
            self._counters["udp_dropped_busy"] += 1  # the panel repeats an unanswered frame
            return
        self._counters["udp_datagrams"] += 1
        task = asyncio.create_task(self._answer(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            response = await self._handle(data)
        except Exception:  # never let one datagram take the listener down
            self._counters["udp_errors"] += 1
            log.exception("UDP frame handling failed")
            return
        if response is not None and self._transport is not None:
            self._transport.sendto(response, addr)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
