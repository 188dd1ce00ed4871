"""The plugin on a local serial port (``transport: rtu``), polling a real pymodbus RTU server.

The serial line is a pty pair made by ``socat``: the APC-shaped UPS (unit 1) is served by
pymodbus' serial server on one end, the gateway opens the other through pymodbus' serial
client, as it would open /dev/ttyUSB0. Unit 2 on the same line never answers. The test flips
the UPS's registers and reads the canonical events from the journal, checks the bytes that
crossed the line are RTU frames (unit, PDU, CRC) for both units, and pulls the "adapter" (the
ptys vanish) and plugs it back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.host import Gateway
from gateway.model.command import ResultStatus
from gateway.model.entities import DeviceStatus
from plugins.modbus.frames import Adu, FrameError, decode_rtu
from tests.plugins.modbus.helpers import (
    cmd,
    events,
    phases,
    plugin,
    start_gateway,
    telemetry,
    wait_for,
)
from tests.plugins.modbus.sim import ApcUps, PtyPair, SerialSimServer, Silent

CONFIG = """\
site: {{id: hq}}
plugins:
  - id: power
    plugin: modbus
    config:
      connections:
        - name: bus
          transport: rtu
          serial_port: '{port}'
          baudrate: 9600
          parity: N
          timeout_ms: 2000             # generous: a loaded machine answers late
          probe_interval_s: 4
      devices:
        - {{name: ups-1, connection: bus, unit: 1, profile: apc_smart_ups, title: Server room UPS}}
        - {{name: ups-2, connection: bus, unit: 2, profile: apc_smart_ups, supervision_s: 3}}
"""
UPS = "hq/ups-1"
DEAD = "hq/ups-2"


class Bus:
    """The serial line: socat's pty pair with the UPS (unit 1) and a dead unit 2 on one end.

    :meth:`unplug` and :meth:`plug` stand for pulling the USB/RS-485 adapter and putting it
    back: the ptys vanish and come back under the same names. The UPS serves :attr:`ups`'s
    registers as they are when it is plugged in.
    """

    def __init__(self, directory: Path) -> None:
        self.ups, self.dead = ApcUps(1), Silent(2)
        self.pty = PtyPair(directory)
        self._server: SerialSimServer | None = None

    @property
    def server(self) -> SerialSimServer:
        assert self._server is not None, "unplugged"
        return self._server

    async def plug(self) -> None:
        await self.pty.start()
        devices = [self.ups.simdevice(), self.dead.simdevice()]
        self._server = SerialSimServer(devices, self.pty.device_end)
        await self._server.start()

    async def unplug(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
        await self.pty.stop()


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[Bus]:
    line = Bus(tmp_path)
    try:
        await line.plug()
        yield line
    finally:
        line.dead.alive.set()
        await line.unplug()


@pytest.fixture
async def gateway(tmp_path: Path, bus: Bus) -> AsyncIterator[Gateway]:
    gw = await start_gateway(tmp_path, CONFIG.format(port=bus.pty.gateway_end))
    yield gw
    await gw.stop()


def frames(buffers: list[bytes]) -> list[Adu]:
    """The whole RTU frames among what the server read or wrote (partial reads are skipped)."""
    out = []
    for data in buffers:
        try:
            out.append(decode_rtu(data))
        except FrameError:
            continue
    return out


def requests(server: SerialSimServer, unit: int) -> list[Adu]:
    return [a for a in frames(server.received) if a.unit == unit and a.pdu.role == "request"]


def answers(server: SerialSimServer, unit: int) -> list[Adu]:
    return [a for a in frames(server.sent) if a.unit == unit and a.pdu.role == "response"]


async def test_mains_loss_and_restore_arrive_over_the_serial_line(
    gateway: Gateway, bus: Bus
) -> None:
    server = bus.server
    modbus = plugin(gateway)
    assert modbus.links["bus"].endpoint.describe() == f"rtu:{bus.pty.gateway_end}@9600"
    assert modbus.lines[0].pacing_s == pytest.approx(3.5 * 11 / 9600)  # 3.5 characters

    await wait_for(lambda: telemetry(gateway, UPS, "battery_charge") == [100.0])
    assert telemetry(gateway, UPS, "output_voltage") == [230.0]
    assert events(gateway, "power.on_battery") == []

    await server.set(1, 0, [0x0000, 0x0044])  # on battery + input not acceptable
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm"])
    await wait_for(lambda: phases(gateway, "trouble.ac_loss", UPS) == ["alarm"])
    alarm = events(gateway, "power.on_battery", UPS)[0]
    assert alarm.text == "UPS on battery" and alarm.priority == 2
    assert alarm.data["values"]["ups_status"] == 0x44

    await server.set(1, 0, [0x0000, 0x0002])  # mains back
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm", "restore"])
    await wait_for(lambda: phases(gateway, "trouble.ac_loss", UPS) == ["alarm", "restore"])

    # What crossed the line: RTU frames (CRC checked by the plugin's own decoder), FC3 reads
    # of the profile's blocks, and the UPS's answers to them.
    asked = {(a.pdu.fields["address"], a.pdu.fields["count"]) for a in requests(server, 1)}
    assert {(0, 24), (128, 24)} <= asked
    assert {a.pdu.function for a in requests(server, 1)} == {3}
    assert answers(server, 1)


async def test_a_dead_unit_on_the_serial_line_does_not_stall_the_live_one(
    gateway: Gateway, bus: Bus
) -> None:
    server = bus.server
    modbus = plugin(gateway)
    dead, live = modbus.devices[DEAD], modbus.devices[UPS]
    await wait_for(lambda: dead.online is False)
    await wait_for(lambda: gateway.registry.devices[DEAD].status is DeviceStatus.OFFLINE)
    # the registry marks the device offline, then journals the event: wait, do not assume
    await wait_for(lambda: phases(gateway, "device.offline", DEAD) == ["alarm"])
    assert "no response" in (dead.last_error or "")

    await server.set(1, 0, [0x0000, 0x0004])  # on battery
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm"])
    await wait_for(lambda: dead.counters["no_response"] >= 3)  # probed again, and again
    # each probe is one request on the line, one timeout; the live unit is polled meanwhile
    assert dead.counters["requests"] <= dead.counters["no_response"] + 1  # one may be in flight
    assert live.counters["requests"] > dead.counters["requests"]
    assert live.online is True
    assert gateway.registry.devices[UPS].status is DeviceStatus.ONLINE
    assert phases(gateway, "device.offline", UPS) == []
    assert not events(gateway, "plugin.fault")

    # the probes really went out on the line, and only the live unit ever answered
    assert len(requests(server, 2)) >= 3
    assert answers(server, 2) == []
    before = len(answers(server, 1))
    await wait_for(lambda: len(answers(server, 1)) > before + 4)
    assert live.online is True and dead.online is False


async def test_a_command_writes_and_reads_back_over_the_serial_line(
    gateway: Gateway, bus: Bus
) -> None:
    await wait_for(lambda: plugin(gateway).devices[UPS].online)
    result = await gateway.dispatch(cmd(UPS, "ups.self_test"))
    assert result.status is ResultStatus.OK, result.detail
    assert result.data == {"readback": {"battery_test_status": 2}}
    assert (1541, [1]) in bus.ups.writes
    written = [a for a in frames(bus.server.received) if a.unit == 1 and a.pdu.function == 6]
    assert written and written[0].pdu.fields["address"] == 1541


async def test_the_adapter_unplugged_and_plugged_back(gateway: Gateway, bus: Bus) -> None:
    modbus = plugin(gateway)
    live, line = modbus.devices[UPS], modbus.lines[0]
    await wait_for(lambda: telemetry(gateway, UPS, "battery_charge") == [100.0])

    await bus.unplug()  # the serial port is gone: the line cannot reopen it
    await wait_for(lambda: line.counters["connect_failures"] >= 1)
    await wait_for(lambda: live.online is False)
    bus.ups.regs[1] = 0x0004  # mains failed meanwhile: the UPS is on battery when back

    await bus.plug()
    await wait_for(lambda: live.online is True)
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm"])
    assert not events(gateway, "plugin.fault")
