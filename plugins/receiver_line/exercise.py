"""The conformance kit's receiver: a heartbeat, Contact ID and SIA lines and a garbled one."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.sdk import Plugin

LINES = [
    (b"1011           @    \x14", b"\x06"),
    (b"5011 181234E13001015\x14", b"\x06"),
    (b"S011[#1234|Nri1/BA012]\x14", b"\x06"),
    (b"5011 181234R13001015\x14", b"\x06"),
    (b"5011 18123\x01E13001015\x14", b"\x15"),
]
"""Each line with the answer it must get (the layouts: docs/plugins/receiver-line.md)."""


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.receiver_line.plugin import ReceiverLinePlugin
    from plugins.receiver_line.transport import TcpServerLink

    if not isinstance(plugin, ReceiverLinePlugin) or not isinstance(plugin.link, TcpServerLink):
        raise TypeError("the exercise needs a running receiver_line bridge listening on TCP")
    reader, writer = await asyncio.open_connection("127.0.0.1", plugin.link.port)
    try:
        for line, expected in LINES:
            writer.write(line)
            answer = await asyncio.wait_for(reader.readexactly(1), 5)
            if answer != expected:
                raise AssertionError(f"sent {line!r}: expected {expected!r}, got {answer!r}")
    finally:
        writer.close()
        await writer.wait_closed()
