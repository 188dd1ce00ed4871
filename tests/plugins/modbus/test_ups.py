"""The plugin in a real gateway polling an APC-shaped UPS served by pymodbus on 127.0.0.1.

The test flips the UPS's registers the way the UPS would (mains loss, battery drain,
overload) and reads the canonical events from the journal. Unit 2 on the same connection never
answers: unit 1 must keep reporting while unit 2 is probed, marked offline, and counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.host import Gateway
from gateway.model.command import ResultStatus
from gateway.model.entities import DeviceStatus
from plugins.modbus import scheduler
from tests.plugins.modbus.helpers import (
    cmd,
    events,
    phases,
    plugin,
    start_gateway,
    telemetry,
    wait_for,
)
from tests.plugins.modbus.sim import ApcUps, Silent, SimServer
from tests.recorded_log import RecordedLog

CONFIG = """\
site: {{id: hq}}
plugins:
  - id: power
    plugin: modbus
    config:
      connections:
        - {{name: nmc, host: 127.0.0.1, port: {port}, timeout_ms: 1500, probe_interval_s: 4}}
      devices:
        - {{name: ups-1, connection: nmc, unit: 1, profile: apc_smart_ups, title: Server room UPS}}
        - {{name: ups-2, connection: nmc, unit: 2, profile: apc_smart_ups, supervision_s: 3}}
"""
UPS = "hq/ups-1"
DEAD = "hq/ups-2"


@pytest.fixture
async def ups() -> AsyncIterator[tuple[SimServer, ApcUps]]:
    device, dead = ApcUps(1), Silent(2)
    server = SimServer([device.simdevice(), dead.simdevice()])
    await server.start()
    yield server, device
    dead.alive.set()
    await server.stop()


@pytest.fixture
async def gateway(tmp_path: Path, ups: tuple[SimServer, ApcUps]) -> AsyncIterator[Gateway]:
    gw = await start_gateway(tmp_path, CONFIG.format(port=ups[0].port))
    yield gw
    await gw.stop()


async def test_mains_loss_battery_drain_and_overload_become_canonical_events(
    gateway: Gateway, ups: tuple[SimServer, ApcUps]
) -> None:
    server, _ = ups
    await wait_for(lambda: telemetry(gateway, UPS, "battery_charge") == [100.0])
    assert telemetry(gateway, UPS, "output_voltage") == [230.0]
    assert telemetry(gateway, UPS, "output_frequency") == [50.0]
    assert events(gateway, "power.on_battery") == []

    await server.set(1, 0, [0x0000, 0x0044])  # on battery + input not acceptable
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm"])
    await wait_for(lambda: phases(gateway, "trouble.ac_loss", UPS) == ["alarm"])
    alarm = events(gateway, "power.on_battery", UPS)[0]
    assert alarm.text == "UPS on battery" and alarm.priority == 2
    assert alarm.data["values"]["ups_status"] == 0x44

    await server.set(1, 130, [20 * 512])  # battery drains to 20 %
    await wait_for(lambda: phases(gateway, "power.battery_low", UPS) == ["alarm"])
    await server.set(1, 130, [27 * 512])  # 27 %: above 25 but inside the hysteresis (30)
    await server.set(1, 0, [0x0020, 0x0044])  # overload (bit 21) while on battery
    await wait_for(lambda: phases(gateway, "power.overload", UPS) == ["alarm"])
    await wait_for(lambda: 27.0 in telemetry(gateway, UPS, "battery_charge"))
    assert phases(gateway, "power.battery_low", UPS) == ["alarm"]

    await server.set(1, 0, [0x0000, 0x0002])  # mains back, overload gone
    await server.set(1, 130, [90 * 512])
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm", "restore"])
    await wait_for(lambda: phases(gateway, "power.battery_low", UPS) == ["alarm", "restore"])
    assert phases(gateway, "power.overload", UPS) == ["alarm", "restore"]
    assert phases(gateway, "trouble.ac_loss", UPS) == ["alarm", "restore"]


async def test_a_dead_unit_on_the_same_connection_does_not_stall_the_live_one(
    gateway: Gateway, ups: tuple[SimServer, ApcUps]
) -> None:
    server, _ = ups
    modbus = plugin(gateway)
    dead, live = modbus.devices[DEAD], modbus.devices[UPS]
    await wait_for(lambda: dead.online is False)
    await wait_for(lambda: gateway.registry.devices[DEAD].status is DeviceStatus.OFFLINE)
    # the registry marks the device offline, then journals the event: wait, do not assume
    await wait_for(lambda: phases(gateway, "device.offline", DEAD) == ["alarm"])
    assert "no response" in (dead.last_error or "")

    await server.set(1, 0, [0x0000, 0x0004])
    await wait_for(lambda: phases(gateway, "power.on_battery", UPS) == ["alarm"])
    await wait_for(lambda: dead.counters["no_response"] >= 3)  # probed again, and again
    # each probe costs one request; the live unit was polled at its own pace meanwhile
    assert dead.counters["requests"] <= dead.counters["no_response"] + 1  # one may be in flight
    assert live.counters["requests"] > dead.counters["requests"]
    assert live.online is True
    assert gateway.registry.devices[UPS].status is DeviceStatus.ONLINE
    assert phases(gateway, "device.offline", UPS) == []
    assert not [e for e in events(gateway, "plugin.fault")]


async def test_identity_is_read_into_the_registry(gateway: Gateway) -> None:
    await wait_for(lambda: events(gateway, "modbus.identity", UPS))
    (identity,) = events(gateway, "modbus.identity", UPS)
    assert identity.data == {
        "model": "Smart-UPS 1500",
        "serial": "AS1234567890",
        "firmware": "UPS 09.8",
    }
    device = gateway.registry.devices[UPS]
    assert (device.vendor, device.model, device.firmware) == ("APC", "Smart-UPS 1500", "UPS 09.8")
    assert device.name == "Server room UPS" and device.kind == "ups"


async def test_actions_are_confirmed_by_reading_back(
    gateway: Gateway, ups: tuple[SimServer, ApcUps]
) -> None:
    _, device = ups
    await wait_for(lambda: plugin(gateway).devices[UPS].online)
    result = await gateway.dispatch(cmd(UPS, "ups.self_test"))
    assert result.status is ResultStatus.OK, result.detail
    assert result.data == {"readback": {"battery_test_status": 2}}
    assert (1541, [1]) in device.writes

    off = await gateway.dispatch(cmd(UPS, "outlet.off"))
    assert off.status is ResultStatus.OK, off.detail
    assert off.data == {"readback": {"outlet_main": 2}}
    on = await gateway.dispatch(cmd(UPS, "modbus.action", name="outlet.on"))
    assert on.status is ResultStatus.OK, on.detail
    assert device.writes[-1] == (1538, [0, 0x0102])


async def test_output_set_writes_and_reads_back(
    gateway: Gateway, ups: tuple[SimServer, ApcUps]
) -> None:
    server, _ = ups
    await wait_for(lambda: plugin(gateway).devices[UPS].online)
    point = f"{UPS}/transfer-high"
    assert "output.set" in gateway.registry.points[point].capabilities
    result = await gateway.dispatch(cmd(point, "output.set", value=260))
    assert result.status is ResultStatus.OK, result.detail
    assert result.data == {"point": "transfer_high", "value": 260}
    assert await server.get(1, 1026, 1) == [260]

    refused = await gateway.dispatch(cmd(UPS, "output.set", point="load", value=5))
    assert refused.status is ResultStatus.FAILED and "not writable" in refused.detail
    too_big = await gateway.dispatch(cmd(point, "output.set", value=70000))
    assert too_big.status is ResultStatus.FAILED and "outside u16" in too_big.detail


async def test_commands_to_the_dead_unit_fail_with_a_reason(gateway: Gateway) -> None:
    result = await gateway.dispatch(cmd(DEAD, "ups.self_test"))
    assert result.status is ResultStatus.FAILED
    assert "no response" in result.detail


async def test_values_out_of_range_are_logged_once_per_change_and_shown_in_health(
    gateway: Gateway, ups: tuple[SimServer, ApcUps], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As docs/plugins/modbus.md says: counted per device, logged when it starts and when it
    ends (not on every poll), and what is wrong now is in the instance's health. It was only
    counted, in counters nobody could see."""
    server, _ = ups
    runtime = plugin(gateway).devices[UPS]
    recorded = RecordedLog()
    monkeypatch.setattr(scheduler, "log", recorded)
    await wait_for(lambda: telemetry(gateway, UPS, "battery_charge") == [100.0])
    await server.set(1, 130, [120 * 512])  # 120 %: over the profile's max of 100
    await wait_for(lambda: runtime.counters["value_problems"] >= 3)  # three polls at least
    health = plugin(gateway).health()
    assert health is not None
    troubles = health["devices"][UPS]["troubles"]
    assert any("battery_charge" in problem for problem in troubles.values()), troubles
    assert health["devices"][UPS]["counters"]["value_problems"] >= 3
    await server.set(1, 130, [90 * 512])
    await wait_for(lambda: not runtime.troubles)
    lines = [event for _, event in recorded.lines]
    assert lines.count("modbus device answered badly") == 1, lines
    assert lines.count("modbus values good again") == 1, lines
