"""The conformance kit's panel: frames over TCP and UDP, each answer checked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from gateway.sdk import Plugin
from plugins.sia_dc09.dc09 import build_frame


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.sia_dc09.plugin import SiaDc09Plugin

    if not isinstance(plugin, SiaDc09Plugin) or plugin.tcp is None:
        raise TypeError("the exercise needs a running SIA DC-09 receiver with TCP")
    now = datetime.now(UTC)
    frames = [
        (build_frame("SIA-DCS", 1, "1234", "#1234|Nri1/BA012", timestamp=now), b'"ACK"0001'),
        (build_frame("SIA-DCS", 2, "1234", "#1234|Nri1/BH012", timestamp=now), b'"ACK"0002'),
        (build_frame("ADM-CID", 3, "1234", "#1234|3401 01 003", timestamp=now), b'"ACK"0003'),
        (build_frame("NULL", 0, "1234", ""), b'"ACK"0000'),
        (b'\n0000000A"NOPE"\r', b'"NAK"'),
    ]
    reader, writer = await asyncio.open_connection("127.0.0.1", plugin.tcp.port)
    try:
        for frame, expected in frames:
            writer.write(frame)
            answer = await asyncio.wait_for(reader.readuntil(b"\r"), 5)
            if expected not in answer:
                raise AssertionError(f"sent {frame!r}: expected {expected!r} in {answer!r}")
    finally:
        writer.close()
        await writer.wait_closed()
