"""Regressions for what review found in the receiver, each in a real gateway."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.journal import JournalWriteError
from gateway.sdk import ManualClock
from plugins.sia_dc09.config import ReceiverConfig
from plugins.sia_dc09.dc09 import Key, build_frame
from plugins.sia_dc09.dc09.response import parse_response
from tests.plugins.sia_dc09.test_receiver import (
    KEY_TEXT,
    events,
    receiver,
    send_tcp,
    start_gateway,
)


def fail_once_on(gw: Any, code: str) -> None:
    """The journal fails once, for the event with this code (as a full disk would)."""
    ctx = receiver(gw).ctx
    real = ctx.publish
    failed: list[bool] = []

    async def publish(event: Any) -> int:
        if event.code == code and not failed:
            failed.append(True)
            raise JournalWriteError("injected: disk full")
        return await real(event)

    ctx.publish = publish  # type: ignore[method-assign]


async def test_a_frame_half_journaled_is_completed_by_its_retransmission(tmp_path: Path) -> None:
    frame = build_frame(
        "SIA-DCS", 50, "1234", "#1234|Nri1/BA001/FA002", timestamp=datetime.now(UTC)
    )
    gw = await start_gateway(tmp_path)
    try:
        fail_once_on(gw, "SIA:FA")
        plugin = receiver(gw)
        assert plugin.tcp is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", plugin.tcp.port)
        writer.write(frame)
        with pytest.raises(TimeoutError):  # no ACK: the fire alarm is not durable
            await asyncio.wait_for(reader.readuntil(b"\r"), 0.5)
        writer.close()
        for _ in range(3000):  # the burglary alarm's commit may still be on its way
            if events(gw):
                break
            await asyncio.sleep(0.02)
        assert [e.code for e in events(gw)] == ["SIA:BA"]
    finally:
        await gw.stop()
    gw = await start_gateway(tmp_path)  # the partial frame is known again from the journal
    try:
        (answer,) = await send_tcp(gw, frame)
        assert b'"ACK"0050' in answer
        assert sorted(e.code for e in events(gw)) == ["SIA:BA", "SIA:FA"], (
            "neither lost nor doubled"
        )
    finally:
        await gw.stop()


async def test_unknown_sia_codes_are_journaled_not_dropped(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        (answer,) = await send_tcp(
            gw, build_frame("SIA-DCS", 51, "1234", "#1234|Nri1/QQ001", timestamp=datetime.now(UTC))
        )
        assert b'"ACK"0051' in answer
        (event,) = events(gw)
        assert (event.kind, event.priority) == ("sia_dc09.unmapped", 2)
    finally:
        await gw.stop()


async def test_an_encrypted_repeat_is_acked_after_its_time_has_aged(tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    gw = await start_gateway(tmp_path, clock=clock)
    try:
        key = Key.from_hex(KEY_TEXT)
        frame = build_frame(
            "SIA-DCS", 52, "5678", "#5678|Nri1/BA001", timestamp=clock.now(), key=key
        )
        (first,) = await send_tcp(gw, frame)
        await clock.advance(90)  # the ACK was lost; the panel repeats much later
        (again,) = await send_tcp(gw, frame)
        assert b'"*ACK"0052' in first and b'"*ACK"0052' in again
        assert len(events(gw)) == 1
    finally:
        await gw.stop()


async def test_refusals_use_the_request_crc_format_and_udp_noise_gets_no_answer(
    tmp_path: Path,
) -> None:
    gw = await start_gateway(tmp_path)
    try:
        good = build_frame("SIA-DCS", 53, "1234", "#1234|Nri1/BA001")
        damaged = good[:1] + b"FFFF" + good[5:]
        (nak,) = await send_tcp(gw, damaged)
        assert parse_response(nak).token == "NAK", "a hex-CRC panel can read its NAK"
        plugin = receiver(gw)
        assert plugin.udp is not None
        loop = asyncio.get_running_loop()
        got: asyncio.Queue[bytes] = asyncio.Queue()

        class Probe(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                got.put_nowait(data)

        transport, _ = await loop.create_datagram_endpoint(
            Probe, remote_addr=("127.0.0.1", plugin.udp.port)
        )
        transport.sendto(b"x")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(got.get(), 0.5)
        transport.close()
        assert plugin.ctx.counters["udp_ignored_not_a_frame"] == 1
    finally:
        await gw.stop()


def test_a_key_of_the_wrong_length_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"accounts\.0\.key_hex\n.*16, 24 or 32 bytes"):
        ReceiverConfig.model_validate(
            {"tcp_port": 0, "accounts": [{"account": "1234", "key_hex": "00" * 15}]}
        )
