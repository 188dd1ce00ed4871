"""Exactly once across restarts: of the forwarding gateway (A) and of the centre (B).

A restart may cut an exchange in half: the centre journaled the event but its ACK was never
read. The forwarder then sends that event again with the same sequence number and timestamp
(kept in its instance state), and the centre's de-duplication — rebuilt from its journal when
it restarts — answers ACK without reporting it twice.
"""

from __future__ import annotations

from pathlib import Path

from tests.plugins.dc09_forward.helpers import (
    alarm,
    centre_entry,
    eventually,
    forwarder,
    forwarder_entry,
    free_port,
    make_gateway,
    receiver,
    running,
    wait_running,
    zones_received,
)

N = 150


async def test_forwarding_gateway_restarts_mid_stream(tmp_path: Path) -> None:
    n_events = 3 * N  # enough that the stop lands mid-stream however fast the machine is
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port)])
    entries = [forwarder_entry([receiver(port)])]
    async with running(centre):
        site = make_gateway(tmp_path / "a", "site-a", entries)
        async with running(site):
            for n in range(1, n_events + 1):
                await site.journal.append(alarm(n))
            await eventually(lambda: len(zones_received(centre)) >= N // 3)
        # stopped mid-stream, perhaps mid-exchange; a new gateway on the same directory
        got_before = len(zones_received(centre))
        assert got_before < n_events, "the restart must happen while events are still pending"
        again = make_gateway(tmp_path / "a", "site-a", entries)
        async with running(again):
            fwd = forwarder(again)
            await eventually(lambda: len(zones_received(centre)) >= n_events)
            await eventually(lambda: fwd.stats["acked"] >= n_events - got_before)
            assert fwd.stats["acked"] <= n_events - got_before + 1  # the one in flight again
            assert zones_received(centre) == list(range(1, n_events + 1))


async def test_centre_restarts_mid_stream(tmp_path: Path) -> None:
    port = free_port()
    centre_entries = [centre_entry(port)]
    site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(port)])])
    centre = make_gateway(tmp_path / "b", "arc", centre_entries)
    await centre.start()
    try:
        await wait_running(centre)
        async with running(site):
            fwd = forwarder(site)
            for n in range(1, N + 1):
                await site.journal.append(alarm(n))
            await eventually(lambda: len(zones_received(centre)) >= N // 3)
            await centre.stop()  # the centre goes away mid-stream
            failures = fwd.stats["primary_failures"]
            await eventually(lambda: fwd.stats["primary_failures"] > failures + 2)
            centre = make_gateway(tmp_path / "b", "arc", centre_entries)
            await centre.start()
            await wait_running(centre)
            await eventually(lambda: fwd.stats["acked"] + fwd.stats["already_delivered"] >= N)
            await eventually(lambda: len(zones_received(centre)) >= N)
            assert zones_received(centre) == list(range(1, N + 1))
    finally:
        await centre.stop()
