"""The forwarder's output taken by our own receiver in a second gateway (B), over TCP.

B is a real Anfang with the sia_dc09 receiver; what it journals is the proof: every event
once, in journal order, with the kind, phase, zone and area it had in A.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.model.kinds import Phase
from tests.plugins.dc09_forward.helpers import (
    KEY_HEX,
    alarm,
    centre_entry,
    eventually,
    forwarder,
    forwarder_entry,
    free_port,
    journal_events,
    make_gateway,
    receiver,
    running,
    zones_received,
)

N = 30


@pytest.mark.parametrize(
    ("fmt", "key"),
    [("sia-dcs", None), ("sia-dcs", KEY_HEX), ("adm-cid", None), ("adm-cid", KEY_HEX)],
    ids=["sia", "sia-aes", "cid", "cid-aes"],
)
async def test_every_event_arrives_once_in_order(tmp_path: Path, fmt: str, key: str | None) -> None:
    port = free_port()
    extra: dict[str, Any] = {"format": fmt} if key is None else {"format": fmt, "key_hex": key}
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port, key_hex=key)])
    site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(port, **extra)])])
    async with running(centre), running(site):
        for n in range(1, N + 1):
            phase = Phase.ALARM if n % 2 else Phase.RESTORE
            await site.journal.append(alarm(n, phase=phase))
        await eventually(lambda: len(zones_received(centre)) >= N)
        await eventually(lambda: forwarder(site).stats["acked"] >= N)  # the ACKs read too
        got = journal_events(centre, "rx")
        assert [int(e.zone or 0) for e in got] == list(range(1, N + 1))
        assert [e.phase for e in got] == [
            Phase.ALARM if n % 2 else Phase.RESTORE for n in range(1, N + 1)
        ]
        assert {e.kind for e in got} == {"intrusion"}
        assert {e.area for e in got} == {"1"}
        assert {e.source.split("/")[1] for e in got} == {"acct-ACC1"}
        stats = forwarder(site).stats
        assert stats["acked"] == N and stats["nak"] == 0 and stats["duh"] == 0
        if key is not None:
            assert all(e.data["dc09"].get("encrypted") for e in got)
