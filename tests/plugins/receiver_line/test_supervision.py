"""The hardware receiver as a supervised registry device: its heartbeats keep it online; when
they stop the registry (alone) raises ``device.offline``, and the next line restores it.

Time is the gateway's ManualClock, advanced by the test; the receiver is the scripted peer of
``peer.py`` (hand-written: no receiver program exists)."""

from __future__ import annotations

from pathlib import Path

from gateway.host import Gateway
from gateway.model.entities import DeviceStatus
from gateway.sdk import ManualClock
from tests.plugins.receiver_line.helpers import events, server_port, start_gateway, wait_for
from tests.plugins.receiver_line.peer import ACK, ALARM, HEARTBEAT, connect

CONFIG = {
    "transport": "tcp_server",
    "port": 0,
    "receiver": {"name": "sg-1", "heartbeat_s": 10, "missed_heartbeats": 3},
    "accounts": [{"account": "1234"}],
}
RECEIVER = "hq/sg-1"


def offline(gw: Gateway) -> list[str]:
    return [
        str(e.phase)
        for e in events(gw, "device.offline", plugin="registry")
        if e.source == RECEIVER
    ]


async def test_missing_heartbeats_make_the_receiver_offline_and_its_return_restores_it(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    gw = await start_gateway(tmp_path, CONFIG, clock)
    try:
        assert gw.registry.devices[RECEIVER].supervision_s == 30  # 3 heartbeats of 10 s
        peer = await connect(server_port(gw))
        try:
            for _ in range(4):  # heartbeats on time: 4 x 10 s > 30 s, still online
                assert await peer.exchange(HEARTBEAT) == ACK
                await clock.advance(10)
            assert offline(gw) == []
            assert gw.registry.devices[RECEIVER].status is DeviceStatus.ONLINE

            await clock.advance(35)  # the receiver falls silent for more than 3 intervals
            await wait_for(lambda: offline(gw) == ["alarm"])
            assert gw.registry.devices[RECEIVER].status is DeviceStatus.OFFLINE
            (alarm,) = events(gw, "device.offline", plugin="registry")
            assert alarm.data["interval_s"] == 30

            assert await peer.exchange(HEARTBEAT) == ACK  # back: the registry restores it
            await wait_for(lambda: offline(gw) == ["alarm", "restore"])
            assert gw.registry.devices[RECEIVER].status is DeviceStatus.ONLINE

            await clock.advance(25)
            assert await peer.exchange(ALARM) == ACK  # any line is a sign of life
            await clock.advance(25)
            assert offline(gw) == ["alarm", "restore"]
        finally:
            await peer.close()
    finally:
        await gw.stop()
