"""The forwarder's output decoded by pysiaalarm 3.2.2's receiver (an independent program).

pysiaalarm's asyncio server listens on 127.0.0.1, checks each frame's CRC with its own code,
decrypts with the account key's ASCII bytes, maps ADM-CID to SIA codes, and ACKs (its ACKs
are not spec-exact — a ``*ACK`` padded with ``0`` and no ``|`` — and our reply reader accepts
what DC-09 allows of them, given a receiver number to echo).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pysiaalarm.aio import CommunicationsProtocol, SIAAccount, SIAClient

from gateway.model.kinds import Phase
from tests.plugins.dc09_forward.helpers import (
    ACCOUNT,
    alarm,
    eventually,
    forwarder,
    forwarder_entry,
    free_port,
    make_gateway,
    receiver,
    running,
)

ASCII_KEY = "AAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes"])
@pytest.mark.parametrize("fmt", ["sia-dcs", "adm-cid"])
async def test_pysiaalarm_reads_what_we_forward(tmp_path: Path, fmt: str, encrypted: bool) -> None:
    got: list[Any] = []

    async def collect(event: Any) -> None:
        got.append(event)

    port = free_port()
    accounts = [SIAAccount(ACCOUNT, ASCII_KEY if encrypted else None)]
    client = SIAClient(
        "127.0.0.1", port, accounts, function=collect, protocol=CommunicationsProtocol.TCP
    )
    # pysiaalarm's ACK echoes the R field only when one was sent (without one it writes no
    # L field either, which no DC-09 reader can take), so this centre has a receiver number
    extra: dict[str, Any] = {"format": fmt, "receiver": "1"}
    if encrypted:
        extra["key_ascii"] = ASCII_KEY
    site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(port, **extra)])])
    async with client, running(site):
        await site.journal.append(alarm(12))
        await site.journal.append(alarm(12, phase=Phase.RESTORE))
        await site.journal.append(alarm(3, kind="fire"))
        fwd = forwarder(site)
        await eventually(lambda: fwd.stats["acked"] == 3)
        await asyncio.sleep(0)  # let pysiaalarm's callbacks finish
    events = [e for e in got if e.code != "RP"]  # RP: pysiaalarm's name for our NULL tests
    assert [e.account for e in events] == [ACCOUNT] * 3
    assert all(e.valid_message and e.encrypted is encrypted for e in events)
    assert [e.sequence for e in events] == ["0001", "0002", "0003"]
    if fmt == "sia-dcs":
        assert [(e.code, e.ri, e.message) for e in events] == [
            ("BA", "1", "012"),
            ("BH", "1", "012"),
            ("FA", "1", "003"),
        ]
    else:  # pysiaalarm maps Contact ID to SIA codes; ri is the zone, partition the area
        assert [(e.event_qualifier, e.event_type, e.partition, e.ri) for e in events] == [
            ("1", "130", "01", "012"),
            ("3", "130", "01", "012"),
            ("1", "110", "01", "003"),
        ]
