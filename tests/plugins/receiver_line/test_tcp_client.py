"""The bridge as the automation computer connecting to the receiver's automation port (the
System III / System 5 layout: the receiver listens on TCP 1025). The receiver is the scripted
peer of ``peer.py`` listening on 127.0.0.1 — hand-written, as no receiver program exists."""

from __future__ import annotations

from pathlib import Path

from tests.plugins.receiver_line.helpers import bridge, codes, start_gateway, wait_for
from tests.plugins.receiver_line.peer import (
    ACK,
    ALARM,
    GARBLED,
    HEARTBEAT,
    NAK,
    SIA_ALARM,
    ReceiverServer,
)


async def test_the_bridge_connects_and_reconnects_after_the_receiver_restarts(
    tmp_path: Path,
) -> None:
    receiver = ReceiverServer()
    await receiver.start()
    config = {
        "transport": "tcp_client",
        "host": "127.0.0.1",
        "port": receiver.port,
        "reconnect_s": 0.2,
        "accounts": [{"account": "1234"}],
    }
    gw = await start_gateway(tmp_path, config)
    try:
        peer = await receiver.next_peer()
        assert await peer.exchange(HEARTBEAT) == ACK
        assert await peer.exchange(ALARM) == ACK
        assert await peer.exchange(GARBLED) == NAK

        port = receiver.port
        await receiver.stop()  # the receiver reboots: connection and port closed a while
        await wait_for(lambda: bridge(gw).ctx.counters["connect_failures"] >= 1)
        receiver = ReceiverServer()
        await receiver.start(port)
        peer = await receiver.next_peer()  # the bridge came back by itself
        assert await peer.exchange(SIA_ALARM) == ACK
        await peer.close()
        assert codes(gw) == ["CID:E130", "SIA:BA"]
        assert bridge(gw).ctx.counters["tcp_client_connections"] == 2
        assert not [r for r in gw.runners.values() if r.status.restarts]
    finally:
        await gw.stop()
        await receiver.stop()
