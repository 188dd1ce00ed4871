"""End to end: a panel → our receiver (gateway A) → our forwarder (A) → a second Anfang (B).

The panel is the codec's own ``build_frame`` over TCP, waiting for each ACK as a panel does
(no DC-09 panel simulator exists as a program). B's receiver is reached over two paths (socat
relays: two networks into one centre). Midway the primary path stops answering — connections
are accepted, nothing comes back — and later returns. Every event the panel reported arrives
at B once, in the order the panel sent it, and A's journal shows the primary path's outage
(``device.offline`` alarm) and its return (the restore).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gateway.model.kinds import Phase
from plugins.dc09_forward.paths import Role
from plugins.sia_dc09.dc09 import build_frame
from tests.plugins.dc09_forward.helpers import (
    centre_entry,
    eventually,
    forwarder,
    forwarder_entry,
    free_port,
    journal_events,
    make_gateway,
    receiver,
    receiver_plugin,
    relays,
    running,
    zones_received,
)

PANEL = "1234"
N = 45
PRIMARY = "site-a/fwd-arc-primary"


class Panel:
    """One TCP connection, one frame at a time, each answered before the next."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seq = 0

    async def report(self, zones: range) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            for zone in zones:
                self.seq += 1
                frame = build_frame(
                    "SIA-DCS",
                    self.seq,
                    PANEL,
                    f"#{PANEL}|Nri1/BA{zone:03d}",
                    timestamp=datetime.now(UTC),
                )
                writer.write(frame)
                answer = await asyncio.wait_for(reader.readuntil(b"\r"), 30)
                assert b'"ACK"' in answer, answer
        finally:
            writer.close()
            await writer.wait_closed()


def offline_phases(site: object) -> list[Phase]:
    return [
        e.phase
        for e in journal_events(site, "registry", "device.offline")  # type: ignore[arg-type]
        if e.source == PRIMARY
    ]


async def test_panel_to_second_anfang_over_a_primary_outage(tmp_path: Path) -> None:
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port)])
    async with running(centre):
        with relays(port, port) as (primary, backup):
            await primary.listening()
            await backup.listening()
            panel_rx = {
                "id": "panel-rx",
                "plugin": "sia_dc09",
                "config": {"tcp_port": 0, "accounts": [{"account": PANEL}]},
            }
            forward = forwarder_entry(
                [receiver(primary.port, backup.port, sources=["site-a/acct-1234*"])]
            )
            site = make_gateway(tmp_path / "a", "site-a", [panel_rx, forward])
            async with running(site):
                rx = receiver_plugin(site, "panel-rx")
                assert rx.tcp is not None
                panel = Panel(rx.tcp.port)
                fwd = forwarder(site)

                await panel.report(range(1, 16))
                await eventually(lambda: len(zones_received(centre)) >= 15)
                primary.freeze()  # the primary path stops answering
                await panel.report(range(16, 31))
                await eventually(lambda: len(zones_received(centre)) >= 30)
                assert fwd.router.active is Role.BACKUP and fwd.stats["failover"] == 1
                await eventually(lambda: offline_phases(site) == [Phase.ALARM])

                primary.thaw()  # the primary answers again
                await eventually(lambda: fwd.router.active is Role.PRIMARY)
                await eventually(lambda: offline_phases(site) == [Phase.ALARM, Phase.RESTORE])
                await panel.report(range(31, N + 1))
                await eventually(lambda: len(zones_received(centre)) >= N)
                await eventually(lambda: fwd.stats["acked"] >= N)
                assert fwd.acked_on[Role.BACKUP] >= 1 and fwd.acked_on[Role.PRIMARY] >= 16

                sent = [e for e in journal_events(site, "panel-rx") if e.kind == "intrusion"]
                assert [int(e.zone or 0) for e in sent] == list(range(1, N + 1))
            got = journal_events(centre, "rx")
            assert [int(e.zone or 0) for e in got] == list(range(1, N + 1))  # once, in order
            assert {(e.kind, e.phase, e.code) for e in got} == {("intrusion", "alarm", "SIA:BA")}
            assert {e.area for e in got} == {"1"}
