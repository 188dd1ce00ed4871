"""A scripted Sur-Gard receiver: writes computer-output lines, reads the ACK/NAK bytes.

Hand-written, because no program plays a hardware receiver's computer output: the real
peers are MLR2/System III/System 5 boxes. It replays the documented line layouts
(docs/plugins/receiver-line.md, conformance/vectors/receiver_line.json) the way the manuals
describe the receiver behaving: one line, then wait for the single answer byte.

The same peer runs over each link the bridge supports: as a TCP client of the bridge (a
receiver that connects out), as the TCP server the bridge connects to (System III/5 port
1025), and on one end of a socat pty pair (the serial cable).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import serial_asyncio_fast

from tests.plugins.modbus.sim import PtyPair

DC4 = b"\x14"
ACK = b"\x06"
NAK = b"\x15"
ANSWER_S = 20.0
"""How long the peer waits for an answer it expects: generous, a loaded machine is slow."""
SILENCE_S = 0.5
"""How long the peer listens to show that no answer came (the receiver's own wait is 4 s)."""

HEARTBEAT = b"1011           @    " + DC4
ALARM = b"5011 181234E13001015" + DC4  # burglary, account 1234, area 01, zone 15
RESTORE = b"5011 181234R13001015" + DC4
SIA_ALARM = b"S011[#1234|Nri1/BA012]" + DC4
UNKNOWN = b"5011 187777E11000003" + DC4  # fire, account 7777 (not configured)
GARBLED = b"5011 18123\x01E13001015" + DC4  # a control byte where a digit was


class ReceiverPeer:
    """One connection of the scripted receiver."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, line: bytes) -> None:
        self.writer.write(line)
        await self.writer.drain()

    async def answer(self, timeout: float = ANSWER_S) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(1), timeout)

    async def exchange(self, line: bytes) -> bytes:
        await self.send(line)
        return await self.answer()

    async def silent(self, seconds: float = SILENCE_S) -> bool:
        """True when no answer byte arrives within ``seconds``."""
        try:
            await asyncio.wait_for(self.reader.readexactly(1), seconds)
        except TimeoutError:
            return True
        return False

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def connect(port: int) -> ReceiverPeer:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return ReceiverPeer(reader, writer)


class ReceiverServer:
    """The receiver's automation port as a TCP server on 127.0.0.1 (the bridge connects)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.peers: asyncio.Queue[ReceiverPeer] = asyncio.Queue()
        self._accepted: list[ReceiverPeer] = []

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = ReceiverPeer(reader, writer)
        self._accepted.append(peer)
        await self.peers.put(peer)

    async def next_peer(self) -> ReceiverPeer:
        return await asyncio.wait_for(self.peers.get(), ANSWER_S)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for peer in self._accepted:  # the receiver going down drops its connections
                await peer.close()
            await self.server.wait_closed()
            self.server = None


class SerialCable:
    """A null-modem cable made by socat: the receiver's end and the gateway's end."""

    def __init__(self, directory: Path) -> None:
        self.pty = PtyPair(directory)

    @property
    def gateway_end(self) -> str:
        return self.pty.gateway_end

    async def plug(self) -> ReceiverPeer:
        await self.pty.start()
        reader, writer = await serial_asyncio_fast.open_serial_connection(
            url=self.pty.device_end, baudrate=9600
        )
        return ReceiverPeer(reader, writer)

    async def unplug(self, peer: ReceiverPeer | None) -> None:
        if peer is not None:
            await peer.close()
        await self.pty.stop()
