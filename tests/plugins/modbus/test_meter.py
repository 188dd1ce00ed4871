"""The generic three-phase meter profile, and an installer's own profile (by path) whose device
exposes a clock: phase loss becomes trouble.ac_loss, and a clock 100 s off raises the registry's
device.clock_skew through ``ctx.report_clock``."""

from __future__ import annotations

import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from gateway.host import Gateway
from tests.plugins.modbus.helpers import events, phases, start_gateway, wait_for
from tests.plugins.modbus.sim import DataType, SimData, SimDevice, SimServer

CLOCK_PROFILE = {
    "name": "clocked_meter",
    "device_kind": "meter",
    "defaults": {"interval_s": 1},
    "points": {
        "voltage": {"table": "input", "address": 0, "type": "f32", "unit": "V"},
        "device_time": {"address": 100, "type": "u32", "telemetry": False},
    },
    "clock": {"point": "device_time", "interval_s": 1},
}
CONFIG = """\
site: {{id: hq}}
plugins:
  - id: power
    plugin: modbus
    config:
      connections:
        - {{name: meters, host: 127.0.0.1, port: {port}, timeout_ms: 500}}
      devices:
        - {{name: meter-1, connection: meters, unit: 1, profile: three_phase_meter}}
        - {{name: meter-2, connection: meters, unit: 2, profile: "{path}"}}
"""


def floats(*values: float) -> list[int]:
    out: list[int] = []
    for value in values:
        out.extend(struct.unpack(">HH", struct.pack(">f", value)))
    return out


def meter_registers() -> list[int]:
    regs = [0] * 200
    regs[0:6] = floats(230.0, 231.0, 229.0)
    regs[70:72] = floats(50.0)
    return regs


CLOCK_BEHIND_S = 100
clock_frozen_at: list[float] = []
"""When the simulated device clock was set: it stands still, so it falls further behind."""


def clock_registers() -> list[int]:
    regs = [0] * 200
    regs[0:2] = floats(229.5)
    clock_frozen_at.append(time.time())
    skewed = int(clock_frozen_at[-1]) - CLOCK_BEHIND_S
    regs[100:102] = [skewed >> 16, skewed & 0xFFFF]
    return regs


def latest(gw: Gateway, source: str) -> dict[str, object]:
    """Each block read sends its own telemetry event; the newest value of every point."""
    values: dict[str, object] = {}
    for event in events(gw, "modbus.telemetry", source):
        values.update(event.data["values"])
    return values


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    devices = [
        SimDevice(
            id=1, simdata=[SimData(0, values=meter_registers(), datatype=DataType.REGISTERS)]
        ),
        SimDevice(
            id=2, simdata=[SimData(0, values=clock_registers(), datatype=DataType.REGISTERS)]
        ),
    ]
    srv = SimServer(devices)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def gateway(tmp_path: Path, server: SimServer) -> AsyncIterator[Gateway]:
    path = tmp_path / "clocked_meter.yaml"
    path.write_text(yaml.safe_dump(CLOCK_PROFILE))
    gw = await start_gateway(tmp_path, CONFIG.format(port=server.port, path=path))
    yield gw
    await gw.stop()


async def test_phase_loss_on_the_shipped_meter_profile(gateway: Gateway, server: SimServer) -> None:
    source = "hq/meter-1"
    await wait_for(lambda: "frequency" in latest(gateway, source))
    assert latest(gateway, source)["voltage_l1"] == 230.0
    assert latest(gateway, source)["frequency"] == 50.0
    assert events(gateway, "modbus.telemetry", source)[0].data["units"]["voltage_l1"] == "V"
    await server.set(1, 2, floats(0.0))  # L2 gone
    await wait_for(lambda: phases(gateway, "trouble.ac_loss", source) == ["alarm"])
    await server.set(1, 2, floats(150.0))  # back, but below 100 + 80 hysteresis
    await wait_for(lambda: latest(gateway, source)["voltage_l2"] == 150.0)
    assert phases(gateway, "trouble.ac_loss", source) == ["alarm"]
    await server.set(1, 2, floats(230.0))
    await wait_for(lambda: phases(gateway, "trouble.ac_loss", source) == ["alarm", "restore"])


async def test_a_device_clock_is_reported_to_the_registry(gateway: Gateway) -> None:
    source = "hq/meter-2"
    await wait_for(lambda: phases(gateway, "device.clock_skew", source) == ["alarm"])
    offset = gateway.registry.devices[source].clock_offset_s
    # The simulated clock stands still, so by the latest poll it is behind by 100 s plus the
    # time since it was set (a slow CI machine may take many seconds to get here).
    behind_now = CLOCK_BEHIND_S + (time.time() - clock_frozen_at[-1])
    assert offset is not None and -behind_now - 2 < offset < -CLOCK_BEHIND_S + 2
    assert gateway.registry.devices[source].kind == "meter"
