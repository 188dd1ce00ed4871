"""The polling engine's parts: block planning, value decoding, change detection with deadbands
and heartbeats, and a line that survives exception responses, garbage and wrong unit ids."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest

from plugins.modbus.adapter import Endpoint, ModbusLink
from plugins.modbus.frames import decode_tcp
from plugins.modbus.frames.adu import encode_tcp
from plugins.modbus.loader import load_profile, parse_profile
from plugins.modbus.mapping import DeviceTracker
from plugins.modbus.planner import Block, plan_blocks
from plugins.modbus.profile import Point, Profile, Table
from plugins.modbus.scheduler import DeviceRuntime, Line
from plugins.modbus.values import decode, encode
from tests.plugins.modbus.helpers import wait_for
from tests.plugins.modbus.sim import ApcUps, SimServer

APC = load_profile("apc_smart_ups")


def profile(points: dict[str, Any], **extra: Any) -> Profile:
    return parse_profile({"name": "t", "points": points, **extra}, "t")


# -- planner -------------------------------------------------------------------------------------


def test_adjacent_registers_coalesce_into_the_fewest_reads() -> None:
    p = profile({f"r{i}": {"address": 10 + i} for i in range(40)})
    assert plan_blocks(p, p.points) == [
        Block(Table.HOLDING, 10, 40, tuple(f"r{i}" for i in range(40)))
    ]


def test_reads_respect_the_device_limit_and_the_allowed_gap() -> None:
    points = {"a": {"address": 0, "type": "u32"}, "b": {"address": 2}, "c": {"address": 10}}
    no_gap = profile(points)
    assert [(b.start, b.count) for b in plan_blocks(no_gap, no_gap.points)] == [(0, 3), (10, 1)]
    gap = profile(points, limits={"max_gap": 7})
    assert [(b.start, b.count) for b in plan_blocks(gap, gap.points)] == [(0, 11)]
    small = profile(points, limits={"max_gap": 7, "max_registers_per_read": 3})
    assert [(b.start, b.count) for b in plan_blocks(small, small.points)] == [(0, 3), (10, 1)]
    tables = profile({"a": {"address": 0}, "b": {"address": 1, "table": "input"}})
    assert [b.table for b in plan_blocks(tables, tables.points)] == [Table.HOLDING, Table.INPUT]


def test_the_apc_profile_needs_four_reads_per_cycle() -> None:
    device = DeviceRuntime("u", "hq/u", 1, APC, DeviceTracker(APC))
    device.plan()
    assert [j.block.describe() for j in device.jobs] == [
        "holding 0..23",
        "holding 128..151",
        "holding 516..589",
        "holding 1026..1027",
    ]
    assert sum(len(j.block.points) for j in device.jobs) == len(APC.points)


# -- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "words", "value"),
    [
        ({"type": "s16"}, [0xFFFE], -2),
        ({"type": "u32"}, [0x0001, 0x0002], 0x10002),
        ({"type": "u32", "word_order": "little"}, [0x0002, 0x0001], 0x10002),
        ({"type": "u16", "byte_order": "little"}, [0x3412], 0x1234),
        ({"type": "s32"}, [0xFFFF, 0xFFFF], -1),
        ({"type": "f32"}, list(struct.unpack(">HH", struct.pack(">f", 50.25))), 50.25),
        ({"type": "u16", "scale": 0.1}, [2301], 230.1),
        ({"type": "u16", "scale_exp2": -9}, [51200], 100.0),
        ({"type": "string", "length": 3}, [0x5550, 0x5300, 0x0000], "UPS"),
        ({"type": "u16", "enum": {1: "online"}}, [1], "online"),
    ],
)
def test_decoding(point: dict[str, Any], words: list[int], value: Any) -> None:
    p = Point(address=0, **point)
    assert decode(p, words, p.word_order or "big", p.byte_order or "big").value == value


def test_out_of_range_and_not_applicable_values() -> None:
    charge = APC.points["battery_charge"]
    assert decode(charge, [60000], "big", "big").problem == "value 117.1875 is outside 0..100"
    assert decode(APC.points["input_voltage"], [0xFFFF], "big", "big").value is None
    enum = Point(address=0, enum={1: "a"})
    assert decode(enum, [7], "big", "big").problem == "value 7 is not in the enumeration"


def test_encoding_is_the_inverse_and_refuses_what_does_not_fit() -> None:
    p = Point(address=0, type="s32", scale=0.01, word_order="little")
    words = encode(p, -12.34, "little", "big")
    assert decode(p, words, "little", "big").value == -12.34
    with pytest.raises(ValueError, match="outside u16"):
        encode(Point(address=0), 70000, "big", "big")


# -- change detection ----------------------------------------------------------------------------


def test_deadband_and_heartbeat() -> None:
    p = profile({"v": {"address": 0, "scale": 0.1, "deadband": 1.0, "heartbeat_s": 60}})
    tracker = DeviceTracker(p)
    block = Block(Table.HOLDING, 0, 1, ("v",))
    assert tracker.update(block, [2300], 0).telemetry == {"v": 230.0}  # first value: sent
    assert tracker.update(block, [2305], 1).telemetry == {}  # 0.5 < deadband
    assert tracker.update(block, [2309], 2).telemetry == {}  # 0.9 from the last *sent*
    assert tracker.update(block, [2310], 3).telemetry == {"v": 231.0}  # 1.0: sent
    assert tracker.update(block, [2310], 62).telemetry == {}  # heartbeat counts from last sent
    assert tracker.update(block, [2310], 63.5).telemetry == {"v": 231.0}  # heartbeat due


def test_two_conditions_of_one_kind_alarm_once_and_restore_when_both_clear() -> None:
    tracker = DeviceTracker(APC)
    status = Block(Table.HOLDING, 18, 1, ("signaling_status",))
    charge = Block(Table.HOLDING, 130, 1, ("battery_charge",))
    assert tracker.update(charge, [20 * 512], 0).alarms[0].phase == "alarm"
    assert tracker.update(status, [0x0002], 1).alarms == []  # already in alarm
    assert tracker.update(charge, [80 * 512], 2).alarms == []  # the other still holds
    (restore,) = tracker.update(status, [0], 3).alarms
    assert (restore.kind, restore.phase) == ("power.battery_low", "restore")


def test_an_alarm_active_before_a_restart_is_restored_after_it() -> None:
    tracker = DeviceTracker(APC, active_kinds=["power.on_battery"])
    (change,) = tracker.update(Block(Table.HOLDING, 0, 2, ("ups_status",)), [0, 2], 0).alarms
    assert (change.kind, change.phase) == ("power.on_battery", "restore")


# -- a line against misbehaving peers ----------------------------------------------------------


def _line(port: int, devices: list[DeviceRuntime], seen: list[Any]) -> tuple[Line, ModbusLink]:
    link = ModbusLink(Endpoint("tcp", "127.0.0.1", port, timeout_s=0.3))
    line = Line(
        "t",
        link,
        devices,
        sink=lambda d, b, w: seen.append((d.unit, b.start, list(w))),
        on_state=lambda d, on, why: None,
        monotonic=time.monotonic,
        sleep=asyncio.sleep,
        probe_interval_s=0.5,
    )
    return line, link


async def test_a_refused_coalesced_read_is_split_and_polling_goes_on() -> None:
    """A device without the gap registers answers 'illegal data address' to the joined read;
    the line counts it, splits the block, and reads the points separately from then on."""
    ups = ApcUps(1)
    server = SimServer([ups.simdevice()])
    await server.start()
    p = profile(
        {"a": {"address": 20}, "b": {"address": 40}, "c": {"address": 1027}},
        limits={"max_gap": 124},
    )
    device = DeviceRuntime("u", "hq/u", 1, p, DeviceTracker(p), jobs=[])
    seen: list[Any] = []
    line, link = _line(server.port, [device], seen)
    task = asyncio.create_task(line.run())
    try:
        await wait_for(lambda: {s[1] for s in seen} >= {20, 1027})
        assert device.counters["exception_response"] >= 1
        assert device.counters["blocks_split"] >= 1
        assert device.online is True
        assert not task.done()
    finally:
        task.cancel()
        link.close()
        await server.stop()


class HandWrittenPeer:
    """A Modbus TCP "device" that answers badly on purpose (no real program does this on
    demand): it replies with the wrong unit id, then a garbled frame, then correctly."""

    def __init__(self, answers: list[Callable[[bytes], bytes | None]]) -> None:
        self.answers = answers
        self.requests = 0
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                body = await reader.readexactly(int.from_bytes(header[4:6], "big") - 1)
                request = decode_tcp(header + body)
                answer = self.answers[min(self.requests, len(self.answers) - 1)](header + body)
                self.requests += 1
                assert request.pdu.function == 3
                if answer is not None:
                    writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def _reply(unit: int | None = None, garble: bool = False) -> Callable[[bytes], bytes]:
    def make(request: bytes) -> bytes:
        count = int.from_bytes(request[10:12], "big")
        pdu = bytes([3, 2 * count]) + b"\x00\x07" * count
        frame = encode_tcp(int.from_bytes(request[:2], "big"), unit or request[6], pdu)
        return frame[:-3] + b"\xff" if garble else frame

    return make


async def test_wrong_unit_ids_and_garbled_answers_are_counted_and_polling_goes_on() -> None:
    peer = HandWrittenPeer([_reply(unit=9), _reply(garble=True), _reply()])
    await peer.start()
    p = profile({"a": {"address": 0, "interval_s": 0.2}})
    device = DeviceRuntime("u", "hq/u", 1, p, DeviceTracker(p))
    seen: list[Any] = []
    line, link = _line(peer.port, [device], seen)
    task = asyncio.create_task(line.run())
    try:
        await wait_for(lambda: seen)
        assert seen[0] == (1, 0, [7])
        errors = device.counters["bad_response"] + device.counters["no_response"]
        assert errors >= 2, device.counters
        assert not task.done()
    finally:
        task.cancel()
        link.close()
        await peer.stop()


async def test_rtu_over_tcp_reads_through_a_serial_server() -> None:
    """pymodbus' server speaking RTU frames (CRC, no MBAP) over TCP, as a serial server does."""
    ups = ApcUps(1)
    server = SimServer([ups.simdevice()], rtu=True)
    await server.start()
    device = DeviceRuntime("u", "hq/u", 1, APC, DeviceTracker(APC))
    seen: list[Any] = []
    link = ModbusLink(Endpoint("rtu_over_tcp", "127.0.0.1", server.port, timeout_s=1.0))
    line = Line(
        "rtu",
        link,
        [device],
        sink=lambda d, b, w: seen.append((b.start, list(w))),
        on_state=lambda d, on, why: None,
        monotonic=time.monotonic,
        sleep=asyncio.sleep,
        pacing_s=3.5 * 11 / 9600,
    )
    task = asyncio.create_task(line.run())
    try:
        await wait_for(lambda: any(start == 128 for start, _ in seen))
        words = next(w for start, w in seen if start == 128)
        assert words[130 - 128] == 51200  # battery charge 100 %
        assert device.online is True
    finally:
        task.cancel()
        link.close()
        await server.stop()
