"""The bridge listening on 127.0.0.1 (a receiver that connects out), against the scripted
receiver of ``peer.py`` — hand-written, as no receiver program exists to run."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.host import Gateway
from gateway.journal import JournalWriteError
from gateway.model.entities import DeviceStatus
from gateway.sdk import ManualClock
from tests.plugins.receiver_line.helpers import (
    bridge,
    codes,
    events,
    journal_held,
    server_port,
    start_gateway,
    wait_for,
)
from tests.plugins.receiver_line.peer import (
    ACK,
    ALARM,
    GARBLED,
    HEARTBEAT,
    NAK,
    RESTORE,
    SIA_ALARM,
    UNKNOWN,
    connect,
)

CONFIG: dict[str, Any] = {
    "transport": "tcp_server",
    "host": "127.0.0.1",
    "port": 0,
    "receiver": {"name": "sg-1", "heartbeat_s": 30},
    "accounts": [
        {"account": "1234", "name": "Branch panel", "site": "branch"},
        {"account": "0042"},
    ],
    "ack_guard_s": 0,
}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = await start_gateway(tmp_path, CONFIG)
    yield gw
    await gw.stop()


async def test_lines_are_acked_and_journaled_on_the_mapped_site(gateway: Gateway) -> None:
    peer = await connect(server_port(gateway))
    try:
        assert await peer.exchange(HEARTBEAT) == ACK
        assert events(gateway) == []  # a heartbeat is supervision, never an event
        assert await peer.exchange(ALARM) == ACK
        assert await peer.exchange(SIA_ALARM) == ACK
        assert await peer.exchange(RESTORE) == ACK
    finally:
        await peer.close()
    got = events(gateway)
    assert [(e.kind, e.phase, e.source, e.code) for e in got] == [
        ("intrusion", "alarm", "branch/acct-1234/zone-15", "CID:E130"),
        ("intrusion", "alarm", "branch/acct-1234/zone-12", "SIA:BA"),
        ("intrusion", "restore", "branch/acct-1234/zone-15", "CID:R130"),
    ]
    assert got[0].raw == ALARM[:-1].decode() and got[0].area == "1"
    assert got[0].data["receiver_line"]["receiver"] == "01"
    panel = gateway.registry.devices["branch/acct-1234"]
    assert panel.name == "Branch panel" and not panel.unknown
    assert "branch/acct-1234/zone-15" in gateway.registry.points
    assert gateway.registry.devices["hq/sg-1"].kind == "receiver"


async def test_no_ack_while_the_commit_is_held_and_the_event_is_durable_at_the_ack(
    gateway: Gateway,
) -> None:
    peer = await connect(server_port(gateway))
    try:
        with journal_held(gateway):
            await peer.send(ALARM)
            assert await peer.silent(), "an ACK left before the journal commit"
            assert events(gateway) == []
        assert await peer.answer() == ACK
        # the ACK came after the commit: the event is in the journal when the ACK is read
        assert codes(gateway) == ["CID:E130"]
    finally:
        await peer.close()


async def test_a_garbled_line_is_naked_and_its_repeat_is_journaled(gateway: Gateway) -> None:
    peer = await connect(server_port(gateway))
    try:
        assert await peer.exchange(GARBLED) == NAK
        assert events(gateway) == []
        assert await peer.exchange(ALARM) == ACK  # the receiver's repeat arrives whole
        assert await peer.exchange(b"5011 181234X13001015\x14") == NAK  # a bad qualifier
        assert await peer.exchange(b"\n1011  x  @\r") == NAK  # a damaged heartbeat
    finally:
        await peer.close()
    assert codes(gateway) == ["CID:E130"]
    counters = bridge(gateway).ctx.counters
    assert counters["nak_character"] == 1
    assert counters["nak_contact_id"] == 1 and counters["nak_heartbeat"] == 1


async def test_lines_split_and_joined_across_reads_are_answered_in_order(
    gateway: Gateway,
) -> None:
    peer = await connect(server_port(gateway))
    try:
        await peer.send(HEARTBEAT + ALARM[:7])
        assert await peer.answer() == ACK
        await peer.send(ALARM[7:])
        assert await peer.answer() == ACK
        assert await peer.silent()  # one answer per line, no more
    finally:
        await peer.close()
    assert codes(gateway) == ["CID:E130"]


async def test_unknown_accounts_are_journaled_under_unknown(gateway: Gateway) -> None:
    peer = await connect(server_port(gateway))
    try:
        assert await peer.exchange(UNKNOWN) == ACK
    finally:
        await peer.close()
    (event,) = events(gateway)
    assert (event.kind, event.source) == ("fire", "hq/unknown-7777/zone-3")
    device = gateway.registry.devices["hq/unknown-7777"]
    assert device.unknown and device.plugin == "arc"


async def test_strict_refuses_unknown_accounts_with_nak(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path, {**CONFIG, "strict": True})
    try:
        peer = await connect(server_port(gw))
        try:
            assert await peer.exchange(UNKNOWN) == NAK
            assert await peer.exchange(ALARM) == ACK
        finally:
            await peer.close()
        assert codes(gw) == ["CID:E130"]
        assert "hq/unknown-7777" not in gw.registry.devices
        assert bridge(gw).ctx.counters["nak_unknown_account"] == 1
    finally:
        await gw.stop()


async def test_a_line_of_another_protocol_is_journaled_on_the_receiver(gateway: Gateway) -> None:
    peer = await connect(server_port(gateway))
    try:
        # MLR2-DG basic protocol: user 128 closing group 1 (not decoded here, never dropped)
        assert await peer.exchange(b"1011      0012 C1128\x14") == ACK
        assert await peer.exchange(b"001000[#0000|NRU0000]\x14") == ACK  # the receiver's own
    finally:
        await peer.close()
    foreign, internal = events(gateway)
    assert (foreign.kind, foreign.source, foreign.raw) == (
        "receiver_line.unsupported",
        "hq/sg-1",
        "1011      0012 C1128",
    )
    assert internal.source == "hq/sg-1" and internal.code == "SIA:RU"


async def test_a_reconnecting_receiver_replaces_its_dead_connection(gateway: Gateway) -> None:
    old = await connect(server_port(gateway))
    assert await old.exchange(HEARTBEAT) == ACK
    new = await connect(server_port(gateway))  # the old socket is half-open, never closed
    try:
        assert await new.exchange(ALARM) == ACK
        await wait_for(lambda: bridge(gateway).ctx.counters["tcp_server_replaced"] == 1)
    finally:
        await new.close()
        await old.close()
    assert codes(gateway) == ["CID:E130"]


async def _retransmission_case(tmp_path: Path) -> tuple[Gateway, ManualClock]:
    clock = ManualClock()
    gw = await start_gateway(tmp_path, {**CONFIG, "ack_guard_s": 2.0}, clock)
    return gw, clock


async def test_a_copy_sent_during_a_slow_commit_gets_no_second_ack(tmp_path: Path) -> None:
    gw, _clock = await _retransmission_case(tmp_path)  # it never moves: the copy is prompt
    try:
        peer = await connect(server_port(gw))
        try:
            with journal_held(gw):
                await peer.send(ALARM)
                assert await peer.silent()
                await peer.send(ALARM)  # the receiver's ACK wait ran out: it repeats
                assert await peer.silent()
            assert await peer.answer() == ACK
            # a second ACK now would be read as the ACK of the receiver's next line
            assert await peer.silent()
            assert codes(gw) == ["CID:E130"]
            assert bridge(gw).ctx.counters["repeats_unanswered"] == 1
        finally:
            await peer.close()
    finally:
        await gw.stop()


async def test_a_repeat_after_a_lost_ack_is_acked_not_journaled_twice(tmp_path: Path) -> None:
    gw, clock = await _retransmission_case(tmp_path)
    try:
        peer = await connect(server_port(gw))
        try:
            assert await peer.exchange(ALARM) == ACK
            await peer.close()  # the link broke: the receiver never read that ACK
            await clock.advance(5)  # its ACK wait (4 s) runs out; it sends the line again
            peer = await connect(server_port(gw))
            assert await peer.exchange(HEARTBEAT) == ACK  # heartbeats may come in between
            assert await peer.exchange(ALARM) == ACK
            assert codes(gw) == ["CID:E130"]
            assert bridge(gw).ctx.counters["repeats"] == 1
            assert await peer.exchange(RESTORE) == ACK
            assert await peer.exchange(ALARM) == ACK  # the zone again, after its restore: new
            assert codes(gw) == ["CID:E130", "CID:R130", "CID:E130"]
        finally:
            await peer.close()
    finally:
        await gw.stop()


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_a_repeat_after_a_gateway_restart_is_not_journaled_twice(
    tmp_path: Path, isolation: str
) -> None:
    """The bridge reads back the last line it journaled; in a child too (``ctx.journal``),
    where it once had no journal and journaled the repeat a second time."""
    with socket.socket() as s:  # a fixed port: an isolated bridge's socket is in its child
        s.bind(("127.0.0.1", 0))
        config = {**CONFIG, "port": s.getsockname()[1]}
    gw = await start_gateway(tmp_path, config, isolation=isolation)
    try:
        peer = await connect(config["port"])
        assert await peer.exchange(ALARM) == ACK
        await peer.close()
    finally:
        await gw.stop()  # the gateway went down before the receiver read the ACK
    gw = await start_gateway(tmp_path, config, isolation=isolation)
    try:
        peer = await connect(config["port"])
        try:
            assert await peer.exchange(ALARM) == ACK
        finally:
            await peer.close()
        assert codes(gw) == ["CID:E130"]
    finally:
        await gw.stop()


async def test_heartbeats_keep_the_receiver_online(gateway: Gateway) -> None:
    peer = await connect(server_port(gateway))
    try:
        for _ in range(3):
            assert await peer.exchange(HEARTBEAT) == ACK
    finally:
        await peer.close()
    assert bridge(gateway).ctx.counters["heartbeats"] == 3
    assert gateway.registry.devices["hq/sg-1"].status is DeviceStatus.ONLINE
    assert gateway.registry.devices["hq/sg-1"].supervision_s == 90


def fail_once_on(gw: Gateway, code: str) -> None:
    """The journal fails once, for the event with this code (as a full disk would)."""
    ctx = bridge(gw).ctx
    real = ctx.publish
    failed: list[bool] = []

    async def publish(event: Any) -> int:
        if event.code == code and not failed:
            failed.append(True)
            raise JournalWriteError("injected: disk full")
        return await real(event)

    ctx.publish = publish  # type: ignore[method-assign]


async def test_no_answer_when_the_journal_fails_and_the_repeat_completes_the_line(
    gateway: Gateway,
) -> None:
    two = b"S011[#1234|Nri1/BA001/FA002]\x14"  # burglary and fire in one SIA line
    fail_once_on(gateway, "SIA:FA")
    peer = await connect(server_port(gateway))
    try:
        await peer.send(two)
        assert await peer.silent(), "ACKed although the fire alarm is not durable"
        assert codes(gateway) == ["SIA:BA"]
        assert await peer.exchange(two) == ACK  # the receiver's repeat after its ACK wait
    finally:
        await peer.close()
    assert codes(gateway) == ["SIA:BA", "SIA:FA"], "neither lost nor doubled"
    assert bridge(gateway).ctx.counters["unanswered_journal_down"] == 1
