"""Real pymodbus servers for the tests and the bench: an APC-shaped UPS, a unit that never
answers, a meter, on 127.0.0.1 or on a local serial line (a pty pair made by socat). The values
are set through the server's own datastore, the way a real UPS's registers change, and the
plugin reads them over a real socket or serial port.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.server.base import ModbusBaseServer
from pymodbus.simulator import DataType, SimData, SimDevice

__all__ = ["DataType", "SimData", "SimDevice"]

FC_WRITE_REGISTERS = 16

# The ranges NUT's apc_modbus reads as blocks, plus the command registers.
APC_RANGES = ((0, 27), (128, 44), (516, 120), (1024, 17), (1536, 10))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ascii_registers(text: str, count: int) -> list[int]:
    data = text.encode("ascii").ljust(2 * count, b"\x00")[: 2 * count]
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def apc_initial() -> dict[int, int]:
    """An SMT1500 on mains: online, 100 % charge, 230 V in and out, 50 Hz, 20 % load."""
    regs: dict[int, int] = {}
    regs[0], regs[1] = 0, 0x0002  # UPSStatus_BF: online
    regs[3], regs[4] = 0, 0x0001  # main outlet group on
    regs[128], regs[129] = 0, 3600  # runtime s
    regs[130] = 51200  # 100 % (2^9)
    regs[131] = 27 * 32  # 27 V (2^5)
    regs[135] = 3200  # 25 degC (2^7)
    regs[136] = 5120  # 20 % (2^8)
    regs[140] = 2 * 32  # 2 A
    regs[142] = 14720  # 230 V (2^6)
    regs[144] = 6400  # 50 Hz (2^7)
    regs[151] = 14720  # 230 V
    regs[588], regs[589] = 1500, 1000
    regs[1026], regs[1027] = 253, 207
    for start, text, count in (
        (516, "UPS 09.8", 8),
        (532, "Smart-UPS 1500", 16),
        (564, "AS1234567890", 8),
    ):
        for i, word in enumerate(ascii_registers(text, count)):
            regs[start + i] = word
    return regs


@dataclass
class ApcUps:
    """The register image of one UPS plus what its command registers do."""

    unit: int = 1
    regs: dict[int, int] = field(default_factory=apc_initial)
    writes: list[tuple[int, list[int]]] = field(default_factory=list)

    def simdevice(self) -> SimDevice:
        blocks = [
            SimData(
                start,
                values=[self.regs.get(start + i, 0) for i in range(count)],
                datatype=DataType.REGISTERS,
            )
            for start, count in APC_RANGES
        ]
        return SimDevice(id=self.unit, simdata=blocks, action=self._action)

    async def _action(
        self, fc: int, start: int, address: int, count: int, regs: list[int], values: Any
    ) -> ExcCodes | None:
        if values is None or fc not in (6, 16):
            return None
        self.writes.append((address, list(values)))
        if address == 1541 and values[0] & 1:  # replace battery test: start
            regs[23 - start] = 0x0002  # in progress
        if address == 1538 and len(values) == 2:  # OutletCommand_BF, main group
            if values[1] & 0x0002:
                regs[3 - start], regs[4 - start] = 0, 0x0001
            elif values[1] & 0x0004:
                regs[3 - start], regs[4 - start] = 0, 0x0002
        return None


@dataclass
class Silent:
    """A unit id on the line that never answers (a dead UPS behind a serial gateway)."""

    unit: int
    alive: asyncio.Event = field(default_factory=asyncio.Event)

    def simdevice(self) -> SimDevice:
        return SimDevice(
            id=self.unit,
            simdata=[SimData(0, values=[0] * 2000, datatype=DataType.REGISTERS)],
            action=self._hang,
        )

    async def _hang(self, *args: Any) -> ExcCodes | None:
        await self.alive.wait()  # until the fixture ends: no answer is ever sent in time
        return ExcCodes.DEVICE_BUSY


class _Served:
    """What the tests do to a running server: change and read its registers, stop it."""

    server: ModbusBaseServer
    _task: asyncio.Task[Any] | None = None

    async def set(self, unit: int, address: int, values: list[int]) -> None:
        """Change registers as the device would (FC16 path of the datastore)."""
        result = await self.server.context.async_setValues(
            unit, FC_WRITE_REGISTERS, address, values
        )
        if result is not None:
            raise RuntimeError(f"datastore refused {address}: {result}")

    async def get(self, unit: int, address: int, count: int) -> list[int]:
        values = await self.server.context.async_getValues(unit, 3, address, count)
        assert isinstance(values, list)
        return [int(v) for v in values]

    async def stop(self) -> None:
        await self.server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pymodbus
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class SimServer(_Served):
    """A pymodbus TCP server (MBAP, or RTU framing for "RTU over TCP") on 127.0.0.1."""

    def __init__(self, devices: Iterable[SimDevice], *, rtu: bool = False) -> None:
        self.port = free_port()
        self.server = ModbusTcpServer(
            list(devices),
            address=("127.0.0.1", self.port),
            framer=FramerType.RTU if rtu else FramerType.SOCKET,
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve_forever())
        for _ in range(500):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError("pymodbus server did not start")


class PtyPair:
    """A null-modem cable between two local serial ports: two ptys joined by ``socat``.

    The device (a :class:`SerialSimServer`) opens :attr:`device_end`, the gateway
    :attr:`gateway_end`; bytes written to one are read from the other, as on an RS-485 line
    with one master. Nothing leaves the machine.
    """

    def __init__(self, directory: Path) -> None:
        self.device_end = str(directory / "tty-ups")
        self.gateway_end = str(directory / "tty-gateway")
        self.log = directory / "socat.log"
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 30.0) -> None:
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                [
                    "socat",
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.device_end}",
                    f"pty,raw,echo=0,link={self.gateway_end}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (Path(self.device_end).exists() and Path(self.gateway_end).exists()):
            if self._proc.poll() is not None or loop.time() > deadline:
                await self.stop()
                raise RuntimeError(f"socat made no pty pair: {self.log.read_text()}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)


class SerialSimServer(_Served):
    """A pymodbus RTU server on a local serial port: the devices on one serial line.

    Every frame it reads and writes is kept (:attr:`received`, :attr:`sent`: the bytes as on
    the wire), so a test can check what really crossed the line.
    """

    def __init__(self, devices: Iterable[SimDevice], port: str, *, baudrate: int = 9600) -> None:
        self.received: list[bytes] = []
        self.sent: list[bytes] = []
        self.server = ModbusSerialServer(
            list(devices),
            port=port,
            framer=FramerType.RTU,
            baudrate=baudrate,
            trace_packet=self._trace,
        )

    def _trace(self, sending: bool, data: bytes) -> bytes:
        # received: the whole buffer so far on each read, so a frame split by the line is
        # recorded once partial and once whole.
        (self.sent if sending else self.received).append(bytes(data))
        return data

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve_forever())
        for _ in range(1000):
            if self.server.is_active():
                return
            if self._task.done():
                break
            await asyncio.sleep(0.01)
        await self.stop()
        raise RuntimeError("pymodbus serial server did not open its port")
