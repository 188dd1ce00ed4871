"""The one module that imports pymodbus (3.16.x): a Modbus link with our own error types.

pymodbus renames things between minors (``unit`` → ``slave`` → ``device_id``, contexts →
SimData), so everything else in the plugin talks to :class:`ModbusLink` and catches
:class:`LinkError`. pymodbus' own retries are off (``retries=0``): the line scheduler decides
when a silent device is asked again, so a dead unit costs one timeout per probe, not three.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from plugins.modbus.frames.pdu import EXCEPTION_NAMES
from plugins.modbus.profile import Table

Transport = Literal["tcp", "rtu_over_tcp", "rtu"]

# pymodbus logs every timeout with a frame dump at ERROR; we count and report them ourselves.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class LinkError(Exception):
    """A request that did not produce data; ``kind`` is the counter it increments."""

    kind = "link_error"


class LinkDown(LinkError):
    kind = "link_down"


class NoResponse(LinkError):
    kind = "no_response"


class BadResponse(LinkError):
    kind = "bad_response"


class DeviceException(LinkError):
    """The device answered with a Modbus exception (its own 'no')."""

    kind = "exception_response"

    def __init__(self, code: int, what: str) -> None:
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(f"{what}: exception {code:#04x} ({name})")
        self.code = code


@dataclass(frozen=True)
class Endpoint:
    transport: Transport
    host: str | None = None
    port: int = 502
    serial_port: str | None = None
    baudrate: int = 9600
    parity: str = "N"
    bytesize: int = 8
    stopbits: int = 1
    timeout_s: float = 0.5

    def describe(self) -> str:
        if self.transport == "rtu":
            return f"rtu:{self.serial_port}@{self.baudrate}"
        return f"{self.transport}:{self.host}:{self.port}"


class ModbusLink:
    """One connection (TCP socket or serial line); requests on it are serialized."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client = _client(endpoint)

    @property
    def connected(self) -> bool:
        return bool(self._client.connected)

    async def connect(self) -> bool:
        try:
            return bool(await self._client.connect())
        except (OSError, ModbusException):
            return False

    def close(self) -> None:
        self._client.close()

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        """Registers (or bits as 0/1) from ``address``; raises a LinkError subclass."""
        c = self._client
        what = f"unit {unit} read {table} {address}+{count}"
        method = {
            Table.HOLDING: c.read_holding_registers,
            Table.INPUT: c.read_input_registers,
            Table.COIL: c.read_coils,
            Table.DISCRETE: c.read_discrete_inputs,
        }[table]
        response = await _run(lambda: method(address, count=count, device_id=unit), what)
        if table.is_bits:
            bits = list(getattr(response, "bits", []))
            if len(bits) < count:
                raise BadResponse(f"{what}: {len(bits)} bits in the answer")
            return [int(bool(b)) for b in bits[:count]]
        registers = list(getattr(response, "registers", []))
        if len(registers) != count:
            raise BadResponse(f"{what}: {len(registers)} registers in the answer")
        return registers

    async def write_registers(self, unit: int, address: int, values: Sequence[int]) -> None:
        what = f"unit {unit} write registers {address}+{len(values)}"
        if len(values) == 1:
            c = self._client
            await _run(lambda: c.write_register(address, values[0], device_id=unit), what)
        else:
            c = self._client
            await _run(lambda: c.write_registers(address, list(values), device_id=unit), what)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        what = f"unit {unit} write coil {address}"
        c = self._client
        await _run(lambda: c.write_coil(address, value, device_id=unit), what)


async def _run(call: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Make and await one request; pymodbus raises some errors when the call is made (not
    connected) and others when it is awaited, so both happen inside the ``try``."""
    try:
        response = await call()
    except ConnectionException as exc:
        raise LinkDown(f"{what}: not connected ({exc})") from None
    except ModbusIOException as exc:
        text = str(exc)
        if "No response" in text:
            raise NoResponse(f"{what}: no response") from None
        raise BadResponse(f"{what}: {text}") from None
    except ModbusException as exc:
        raise BadResponse(f"{what}: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise LinkDown(f"{what}: {exc}") from None
    if response is None:
        raise NoResponse(f"{what}: no response")
    if response.isError():
        code = getattr(response, "exception_code", None)
        if isinstance(code, int):
            raise DeviceException(code, what)
        raise BadResponse(f"{what}: error response {response}")
    return response


def _client(endpoint: Endpoint) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
    common: dict[str, Any] = {
        "timeout": endpoint.timeout_s,
        "retries": 0,
        "reconnect_delay": 0,  # the line scheduler reconnects, with its own probe interval
        "reconnect_delay_max": 0,
    }
    if endpoint.transport == "rtu":
        return AsyncModbusSerialClient(
            endpoint.serial_port or "",
            framer=FramerType.RTU,
            baudrate=endpoint.baudrate,
            parity=endpoint.parity,
            bytesize=endpoint.bytesize,
            stopbits=endpoint.stopbits,
            **common,
        )
    framer = FramerType.RTU if endpoint.transport == "rtu_over_tcp" else FramerType.SOCKET
    return AsyncModbusTcpClient(
        endpoint.host or "127.0.0.1", port=endpoint.port, framer=framer, **common
    )
