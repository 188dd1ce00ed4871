"""The bridge on a serial port: a socat pty pair is the RS-232 cable, the scripted receiver of
``peer.py`` (hand-written: no receiver program exists) writes on the other end. Pulling the
cable (the ptys vanish) and putting it back must not need a restart."""

from __future__ import annotations

from pathlib import Path

from tests.plugins.receiver_line.helpers import bridge, codes, start_gateway, wait_for
from tests.plugins.receiver_line.peer import (
    ACK,
    ALARM,
    GARBLED,
    HEARTBEAT,
    NAK,
    RESTORE,
    ReceiverPeer,
    SerialCable,
)


async def test_lines_over_a_serial_cable_unplugged_and_plugged_back(tmp_path: Path) -> None:
    cable = SerialCable(tmp_path)
    peer: ReceiverPeer | None = await cable.plug()
    config = {
        "transport": "serial",
        "serial_port": cable.gateway_end,
        "baudrate": 9600,
        "reconnect_s": 0.2,
        "accounts": [{"account": "1234"}],
    }
    gw = await start_gateway(tmp_path, config)
    try:
        link = bridge(gw).link
        await wait_for(link.connected.is_set)
        assert peer is not None
        assert await peer.exchange(HEARTBEAT) == ACK
        assert await peer.exchange(GARBLED) == NAK
        assert await peer.exchange(ALARM) == ACK  # the repeat of the garbled line

        await cable.unplug(peer)
        peer = None
        await wait_for(lambda: not link.connected.is_set())
        await wait_for(lambda: bridge(gw).ctx.counters["open_failures"] >= 1)

        peer = await cable.plug()
        await wait_for(link.connected.is_set)
        assert await peer.exchange(RESTORE) == ACK
        assert codes(gw) == ["CID:E130", "CID:R130"]
        assert not [r for r in gw.runners.values() if r.status.restarts]
    finally:
        await gw.stop()
        await cable.unplug(peer)
