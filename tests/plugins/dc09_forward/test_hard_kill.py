"""Exactly once across a hard kill of the forwarding gateway (SIGKILL, no clean stop).

The forwarder makes each event's sequence number and timestamp durable before its first send
(``ctx.state.durable()``), so the gateway started again resends what was in flight under the
same identity and the centre's de-duplication answers ACK without reporting it twice. Gateway
A runs as ``anfang run`` in its own process so that it can really be killed; the centre is a
gateway in this test's process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from gateway.journal import Journal
from tests.conftest import stop_gracefully
from tests.plugins.dc09_forward.helpers import (
    alarm,
    centre_entry,
    eventually,
    forwarder_entry,
    free_port,
    make_gateway,
    receiver,
    running,
    write_config,
    zones_received,
)

N = 600
ROOT = Path(__file__).resolve().parents[3]


def start_site(home: Path, config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "gateway.cli", "--data-dir", str(home / "data")]
    return subprocess.Popen(
        [*argv, "run", "-c", str(config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_killed_forwarder_resends_in_flight_events_as_they_were(tmp_path: Path) -> None:
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port)])
    site_home = tmp_path / "a"
    config = write_config(site_home, "site-a", [forwarder_entry([receiver(port)])])
    config.write_text(config.read_text() + "api: {enabled: false}\nlog: {level: warning}\n")
    async with await Journal.open(site_home / "data") as journal:  # the backlog to forward
        await journal.append_many([alarm(n) for n in range(1, N + 1)])
    async with running(centre):
        site = start_site(site_home, config)
        try:
            await eventually(lambda: len(zones_received(centre)) >= N // 4, timeout=60)
            site.send_signal(signal.SIGKILL)  # mid-stream, perhaps mid-exchange
            site.wait(10)
            got = len(zones_received(centre))
            assert got < N, "the kill must land while events are still pending"
            site = start_site(site_home, config)
            await eventually(lambda: len(zones_received(centre)) >= N, timeout=120)
            await asyncio.sleep(1.0)  # a late duplicate would arrive now
            assert zones_received(centre) == list(range(1, N + 1))
        finally:
            stop_gracefully(site, 15)
