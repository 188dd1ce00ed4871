"""After a receiver restart every panel reconnects at once: the listen queue must hold them."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

from plugins.sia_dc09.dc09 import Dc09Error
from plugins.sia_dc09.transport import TcpListener

PANELS = 400


async def no_answer(frame: bytes) -> bytes | None:
    return None


def refuse(error: Dc09Error) -> bytes:
    return b""


async def test_panels_reconnecting_together_are_all_let_in_while_the_receiver_is_busy() -> None:
    """The loop is busy (here: it does not run at all) while 400 panels connect. Only the
    kernel's listen queue holds them until it accepts; asyncio's default queue of 100 dropped
    the rest, which then waited out TCP's 1 s and 3 s retries before their first ACK."""
    counters: Counter[str] = Counter()
    listener = TcpListener(
        no_answer,
        refuse,
        counters,
        max_frame=1024,
        binary_crc=False,
        max_connections=2000,
        max_per_address=2000,
        idle_timeout_s=30.0,
    )
    await listener.start("127.0.0.1", 0)
    panels = []
    try:
        for _ in range(PANELS):  # without yielding: the listener accepts nothing meanwhile
            panel = socket.socket()
            panel.setblocking(False)
            panel.connect_ex(("127.0.0.1", listener.port))
            panels.append(panel)
        for _ in range(50):  # 0.5 s: well inside TCP's first 1 s retry
            await asyncio.sleep(0.01)
            if counters["tcp_connections"] == PANELS:
                break
        assert counters["tcp_connections"] == PANELS
    finally:
        for panel in panels:
            panel.close()
        await listener.close()
