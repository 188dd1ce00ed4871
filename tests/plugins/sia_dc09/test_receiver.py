"""The receiver in a real gateway on a real journal, with panels played over 127.0.0.1.

The panel side is a hand-written sender built on the codec's own ``build_frame`` (no DC-09 panel
simulator exists as a program); pysiaalarm, an independent implementation, checks those frames
elsewhere (test_pysiaalarm.py).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.model.entities import ArmingState, DeviceStatus
from gateway.sdk import ManualClock
from gateway.sdk.discovery import discover
from plugins.sia_dc09.dc09 import Key, build_frame, parse_timestamp
from plugins.sia_dc09.plugin import SiaDc09Plugin

KEY_TEXT = "0123456789ABCDEF0123456789ABCDEF"  # 32 characters: used as hex (16 bytes) here

CONFIG = """\
site: {{id: hq}}
plugins:
  - id: rx
    plugin: sia_dc09
    config:
      tcp_port: 0
      udp_port: 0
      strict: {strict}
      accounts:
        - {{account: "1234", name: Branch panel, supervision_s: 30}}
        - {{account: "5678", key_hex: "{key}", plain_allowed: {plain_allowed}}}
        - {{account: "9ABC", site: annex}}
"""


async def start_gateway(
    tmp_path: Path,
    *,
    strict: bool = False,
    clock: ManualClock | None = None,
    plain_allowed: bool = False,
) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    text = CONFIG.format(
        strict=str(strict).lower(), key=KEY_TEXT, plain_allowed=str(plain_allowed).lower()
    )
    cfg.write_text(text)
    installed = discover()
    kw: dict[str, Any] = {} if clock is None else {"clock": clock}
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data", **kw)
    await gw.start()
    for _ in range(6000):  # up to 60 s on a loaded machine
        if gw.runners["rx"].status.state is InstanceState.RUNNING:
            return gw
        await asyncio.sleep(0.01)
    raise AssertionError(gw.runners["rx"].status)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = await start_gateway(tmp_path)
    yield gw
    await gw.stop()


def receiver(gw: Gateway) -> SiaDc09Plugin:
    plugin = gw.runners["rx"].plugin
    assert isinstance(plugin, SiaDc09Plugin)
    return plugin


async def send_tcp(gw: Gateway, *frames: bytes, together: bool = False) -> list[bytes]:
    plugin = receiver(gw)
    assert plugin.tcp is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", plugin.tcp.port)
    answers = []
    try:
        if together:
            writer.write(b"".join(frames))
        for frame in frames:
            if not together:
                writer.write(frame)
            answers.append(await asyncio.wait_for(reader.readuntil(b"\r"), 5))
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


def events(gw: Gateway, kind: str = "") -> list[Any]:
    flt = Filter.build(kinds=[kind]) if kind else Filter.build()
    return [r.event for r in gw.journal.reader.query(flt, limit=10_000) if r.event.plugin == "rx"]


def now() -> datetime:
    return datetime.now(UTC)


async def test_tcp_frames_are_acked_after_they_are_journaled(gateway: Gateway) -> None:
    frames = [
        build_frame("SIA-DCS", 1, "1234", "#1234|Nri1/BA012", timestamp=now()),
        build_frame("ADM-CID", 2, "1234", "#1234|1131 01 015", timestamp=now()),
        build_frame("NULL", 0, "1234", ""),
    ]
    answers = await send_tcp(gateway, *frames, together=True)  # three frames in one write
    assert [a[9:20] for a in answers] == [b'"ACK"0001L0', b'"ACK"0002L0', b'"ACK"0000L0']
    got = events(gateway)
    assert [(e.kind, e.phase, e.source) for e in got] == [
        ("intrusion", "alarm", "hq/acct-1234/zone-12"),
        ("intrusion.perimeter", "alarm", "hq/acct-1234/zone-15"),
    ]
    assert got[0].code == "SIA:BA" and got[1].code == "CID:E131"
    panel = gateway.registry.devices["hq/acct-1234"]
    assert panel.name == "Branch panel" and not panel.unknown
    assert "hq/acct-1234/zone-12" in gateway.registry.points
    assert panel.clock_offset_s is not None and abs(panel.clock_offset_s) < 5


async def test_damaged_frames_get_nak_with_the_receiver_time(gateway: Gateway) -> None:
    good = build_frame("SIA-DCS", 7, "1234", "#1234|Nri1/BA012", timestamp=now())
    bad_crc = good[:1] + (b"0000" if good[1:5] != b"0000" else b"1111") + good[5:]
    (answer,) = await send_tcp(gateway, bad_crc)
    assert b'"NAK"0000R0L0A0[]_' in answer
    stamp = answer[answer.index(b"]_") + 1 : -1].decode()
    assert abs((parse_timestamp(stamp) - now()).total_seconds()) < 5
    assert receiver(gateway).ctx.counters["nak_crc"] == 1
    assert events(gateway) == []


async def test_encrypted_frames_and_the_timestamp_window(gateway: Gateway) -> None:
    key = Key.from_hex(KEY_TEXT)
    fresh = build_frame("SIA-DCS", 3, "5678", "#5678|Nri2/FA001", timestamp=now(), key=key)
    stale = build_frame(
        "SIA-DCS", 4, "5678", "#5678|Nri2/FA002", timestamp=now() - timedelta(minutes=5), key=key
    )
    ok, late = await send_tcp(gateway, fresh, stale)
    assert b'"*ACK"0003L0#5678[' in ok
    assert b'"NAK"0000R0L0A0[]_' in late
    assert [e.kind for e in events(gateway)] == ["fire"]
    assert receiver(gateway).ctx.counters["nak_timestamp"] == 1


async def test_an_account_with_a_key_refuses_frames_in_the_clear(gateway: Gateway) -> None:
    """With a key configured, no one may send the panel's alarms (or its link tests, which
    keep supervision quiet) unencrypted: DUH, counted, nothing journaled. They were ACKed."""
    plain = build_frame("SIA-DCS", 5, "5678", "#5678|Nri2/BA004", timestamp=now())
    link_test = build_frame("NULL", 6, "5678", "", timestamp=now())
    answers = await send_tcp(gateway, plain, link_test)
    assert [a[9:20] for a in answers] == [b'"DUH"0005L0', b'"DUH"0006L0']
    assert receiver(gateway).ctx.counters["duh_plain_for_keyed_account"] == 2
    assert events(gateway) == []


async def test_plain_frames_for_a_keyed_account_when_configured(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path, plain_allowed=True)
    try:
        plain = build_frame("SIA-DCS", 5, "5678", "#5678|Nri2/BA004", timestamp=now())
        (answer,) = await send_tcp(gw, plain)
        assert answer[9:20] == b'"ACK"0005L0'
        assert [e.source for e in events(gw)] == ["hq/acct-5678/zone-4"]
    finally:
        await gw.stop()


async def test_a_data_block_naming_another_account_is_journaled_and_flagged(
    gateway: Gateway,
) -> None:
    """Never dropped (it may be a real alarm), journaled under the header's account, and
    flagged so the centre sees the panel is misconfigured — or the frame forged."""
    frame = build_frame("SIA-DCS", 8, "1234", "#9999|Nri1/BA012", timestamp=now())
    (answer,) = await send_tcp(gateway, frame)
    assert answer[9:20] == b'"ACK"0008L0'
    (event,) = events(gateway)
    assert event.source == "hq/acct-1234/zone-12"
    assert "data_account_differs" in event.data["dc09"]["variants"]
    assert receiver(gateway).ctx.counters["data_account_differs"] == 1


async def test_udp_frames_are_answered_to_the_sender(gateway: Gateway) -> None:
    plugin = receiver(gateway)
    assert plugin.udp is not None
    loop = asyncio.get_running_loop()
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    class Panel(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            answers.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(
        Panel, remote_addr=("127.0.0.1", plugin.udp.port)
    )
    try:
        transport.sendto(build_frame("SIA-DCS", 9, "9ABC", "#9ABC|Nri1/OP003", timestamp=now()))
        answer = await asyncio.wait_for(answers.get(), 5)
    finally:
        transport.close()
    assert b'"ACK"0009L0#9ABC[]' in answer
    (opening,) = events(gateway)
    assert (opening.kind, opening.phase, opening.source) == (
        "arming.disarmed",
        "status",
        "annex/acct-9ABC",
    )


async def test_contact_id_openings_and_closings_are_status_not_alarms(gateway: Gateway) -> None:
    await send_tcp(
        gateway,
        build_frame("ADM-CID", 11, "1234", "#1234|1401 01 003", timestamp=now()),
        build_frame("ADM-CID", 12, "1234", "#1234|3401 01 003", timestamp=now()),
    )
    got = events(gateway)
    assert [(e.kind, e.phase, e.user) for e in got] == [
        ("arming.disarmed", "status", "3"),
        ("arming.armed", "status", "3"),
    ]
    await gateway.areas.caught_up(gateway.journal.committed_seq)
    area = gateway.registry.area_of("hq/acct-1234", "1")
    assert area is not None and area.arming is ArmingState.AWAY, "the area appears as reported"


async def test_unknown_accounts_are_journaled_and_flagged(gateway: Gateway) -> None:
    (answer,) = await send_tcp(
        gateway, build_frame("SIA-DCS", 5, "FEED", "#FEED|Nri1/PA001", timestamp=now())
    )
    assert b'"ACK"0005' in answer
    (panic,) = events(gateway)
    assert (panic.kind, panic.priority, panic.source) == ("panic", 1, "hq/unknown-FEED/zone-1")
    assert gateway.registry.devices["hq/unknown-FEED"].unknown


async def test_strict_mode_refuses_unknown_accounts(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path, strict=True)
    try:
        (answer,) = await send_tcp(
            gw, build_frame("SIA-DCS", 5, "FEED", "#FEED|Nri1/PA001", timestamp=now())
        )
        assert b'"DUH"0005L0#FEED[]' in answer
        assert events(gw) == []
    finally:
        await gw.stop()


async def test_repeats_are_acked_once_reported_also_after_a_restart(tmp_path: Path) -> None:
    frame = build_frame("SIA-DCS", 21, "1234", "#1234|Nri1/BA004", timestamp=now())
    no_stamp = build_frame("SIA-DCS", 22, "1234", "#1234|Nri1/TA004")
    gw = await start_gateway(tmp_path)
    try:
        answers = await send_tcp(gw, frame, frame, no_stamp)
        assert all(b'"ACK"' in a for a in answers)
        assert len(events(gw)) == 2
    finally:
        await gw.stop()
    gw = await start_gateway(tmp_path)
    try:
        answers = await send_tcp(gw, frame, no_stamp)
        assert all(b'"ACK"' in a for a in answers), "a repeat is ACKed again"
        assert len(events(gw)) == 2, "and not reported again"
        assert receiver(gw).ctx.counters["repeats"] == 2
        # A panel that restarted its sequence numbers reuses 21: new data, so it is reported.
        await send_tcp(gw, build_frame("SIA-DCS", 21, "1234", "#1234|Nri1/BA005"))
        assert len(events(gw)) == 3
    finally:
        await gw.stop()


async def test_link_tests_keep_supervision_and_their_absence_raises_offline(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    gw = await start_gateway(tmp_path, clock=clock)
    try:
        await send_tcp(gw, build_frame("NULL", 0, "1234", ""))
        assert gw.registry.devices["hq/acct-1234"].status is DeviceStatus.ONLINE
        await clock.advance(31)  # the registry's supervision task runs on this clock
        await gw.registry.check_supervision()
        assert gw.registry.devices["hq/acct-1234"].status is DeviceStatus.OFFLINE
        await asyncio.sleep(0.2)  # the alarm is being journaled by the supervision task
        await send_tcp(gw, build_frame("NULL", 0, "1234", ""))
        offline = [
            (r.event.phase, r.event.source)
            for r in gw.journal.reader.query(Filter.build(kinds=["device.offline"]))
        ]
        assert offline == [("alarm", "hq/acct-1234"), ("restore", "hq/acct-1234")]
    finally:
        await gw.stop()


async def test_bad_input_never_takes_the_receiver_down(gateway: Gateway) -> None:
    plugin = receiver(gateway)
    assert plugin.tcp is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", plugin.tcp.port)
    writer.write(b"\x00\xff garbage \n" + b"A" * 5000 + b"\r")
    writer.write(build_frame("SIA-DCS", 30, "1234", "#1234|Nri1/BA001", timestamp=now()))
    answers = b""
    while b'"ACK"0030' not in answers:
        answers += await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    await writer.wait_closed()
    assert b'"NAK"' in answers, "the oversized frame got a NAK"
    assert [e.kind for e in events(gateway)] == ["intrusion"]
    assert gateway.runners["rx"].status.restarts == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_slow_and_flooding_senders_are_cut_off(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\nplugins:\n  - id: rx\n    plugin: sia_dc09\n    config:\n"
        "      tcp_port: 0\n      idle_timeout_s: 0.3\n      max_connections_per_address: 3\n"
        '      accounts: [{account: "1234"}]\n'
    )
    installed = discover()
    gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    try:
        for _ in range(200):
            if gw.runners["rx"].status.state is InstanceState.RUNNING:
                break
            await asyncio.sleep(0.01)
        plugin = receiver(gw)
        assert plugin.tcp is not None
        port = plugin.tcp.port
        # A slowloris sender: half a frame, then silence; the receiver closes the connection.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b'\n1234005A"SIA-DCS"00')
        assert await asyncio.wait_for(reader.read(100), 3) == b"", "idle connection closed"
        writer.close()
        # A flood from one address: connections beyond the limit are closed at once.
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await asyncio.sleep(0.05)
        extra_reader, extra_writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(extra_reader.read(100), 3) == b""
        extra_writer.close()
        counters = plugin.ctx.counters
        assert counters["tcp_idle_closed"] >= 1
        assert counters["tcp_refused_address_limit"] >= 1
        assert plugin.health()["tcp_connections_open"] == 3
        for _, w in held:
            w.close()
        # Once it has seen them close (a panel reconnecting before that is still over the
        # limit), the receiver serves a well-behaved panel again.
        for _ in range(300):
            if plugin.health()["tcp_connections_open"] == 0:
                break
            await asyncio.sleep(0.01)
        assert plugin.health()["tcp_connections_open"] == 0
        (answer,) = await send_tcp(gw, build_frame("NULL", 0, "1234", ""))
        assert b'"ACK"0000' in answer
    finally:
        await gw.stop()
