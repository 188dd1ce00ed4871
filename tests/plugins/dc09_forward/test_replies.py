"""NAK and DUH: against our receiver in a second gateway, and against a scripted receiver.

The scripted receiver is hand-written (it says so): a small asyncio server on 127.0.0.1 that
reads frames with our codec and answers what each test scripts — a NAK with a clock two
minutes ahead, a DUH for one event — which no real receiver can be made to do on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from plugins.dc09_forward import forwarder as forwarder_module
from plugins.sia_dc09.dc09 import Dc09Message, build_ack, build_duh, build_nak, parse_frame
from tests.plugins.dc09_forward.helpers import (
    KEY_HEX,
    SkewedClock,
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
from tests.recorded_log import RecordedLog

Script = Callable[[Dc09Message, int], bytes]
"""(the message, how many frames came before it) -> the answer."""


class ScriptedReceiver:
    """Hand-written: answers each frame as the test's script says; records what came."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.frames: list[Dc09Message] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> ScriptedReceiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                message = parse_frame(await reader.readuntil(b"\r"))
                if message.token.value == "NULL":
                    writer.write(build_ack(message, datetime.now(UTC)))
                    continue
                self.frames.append(message)
                writer.write(self.script(message, len(self.frames) - 1))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def events(self) -> list[Dc09Message]:
        return [m for m in self.frames if m.data]


AHEAD = timedelta(minutes=2)


async def test_nak_with_time_resyncs_and_resends(tmp_path: Path) -> None:
    def script(message: Dc09Message, before: int) -> bytes:
        now = datetime.now(UTC)
        return build_nak(now + AHEAD) if before == 0 else build_ack(message, now)

    async with ScriptedReceiver(script) as rx:
        site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(rx.port)])])
        async with running(site):
            await site.journal.append(alarm(1))
            await site.journal.append(alarm(2))
            fwd = forwarder(site)
            await eventually(lambda: fwd.stats["acked"] == 2)
        first, again, second = rx.frames
        assert first.seq == again.seq == "0001" and second.seq == "0002"
        assert first.data == again.data
        assert first.timestamp is not None and again.timestamp is not None
        shift = (again.timestamp - first.timestamp).total_seconds()
        assert 110 <= shift <= 130, "re-stamped with the receiver's clock from the NAK"
        assert second.timestamp is not None and second.timestamp >= again.timestamp
        assert (fwd.stats["nak"], fwd.stats["resync"]) == (1, 1)
        assert 110 <= fwd.outbox.offset_s <= 130


async def test_duh_is_skipped_with_an_alarm(tmp_path: Path) -> None:
    def script(message: Dc09Message, before: int) -> bytes:
        if message.data.endswith("BA005"):
            return build_duh(message)
        return build_ack(message, datetime.now(UTC))

    async with ScriptedReceiver(script) as rx:
        site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(rx.port)])])
        async with running(site):
            sent = [alarm(n) for n in range(1, 9)]
            for event in sent:
                await site.journal.append(event)
            fwd = forwarder(site)
            await eventually(lambda: fwd.stats["acked"] + fwd.stats["duh"] == 8)
            await eventually(lambda: fwd.consumer.committed >= 8)
            refused = journal_events(site, "fwd", "dc09_forward.refused")
            assert len(refused) == 1
            assert refused[0].source == "site-a/fwd-arc-primary"
            assert refused[0].data["receiver"] == "arc"
            assert refused[0].data["event_id"] == sent[4].id
            assert refused[0].data["sent"].endswith("BA005")
            assert site.runners["fwd"].context is not None
            assert site.runners["fwd"].context.counters["duh"] == 1
        zones = [int(m.data[-3:]) for m in rx.events()]
        assert zones == list(range(1, 9)), "the refused event is not sent again"
        assert (fwd.stats["acked"], fwd.stats["duh"]) == (7, 1)


async def test_our_receiver_naks_a_skewed_clock_and_takes_the_resend(tmp_path: Path) -> None:
    """A's clock is 5 minutes slow; B tests encrypted frames against its window (DC-09)."""
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port, key_hex=KEY_HEX)])
    site = make_gateway(
        tmp_path / "a",
        "site-a",
        [forwarder_entry([receiver(port, key_hex=KEY_HEX)])],
        clock=SkewedClock(-timedelta(minutes=5)),
    )
    async with running(centre), running(site):
        for n in range(1, 6):
            await site.journal.append(alarm(n))
        await eventually(lambda: len(zones_received(centre)) >= 5)
        fwd = forwarder(site)
        assert fwd.stats["nak"] >= 1 and fwd.stats["resync"] >= 1
        assert 290 <= fwd.outbox.offset_s <= 310
        got = journal_events(centre, "rx")
        assert [int(e.zone or 0) for e in got] == [1, 2, 3, 4, 5]
        for event in got:  # stamped with B's clock after the resync
            assert abs((event.occurred_at - event.received_at).total_seconds()) < 10
        rx = centre.runners["rx"].context
        assert rx is not None and rx.counters["nak_timestamp"] >= 1


async def test_our_receiver_refuses_an_unknown_account(tmp_path: Path) -> None:
    """B is strict and does not know the account: DUH for every event, each on record."""
    port = free_port()
    centre_cfg = centre_entry(port, strict=True)
    centre_cfg["config"]["accounts"] = [{"account": "BBBB"}]
    centre = make_gateway(tmp_path / "b", "arc", [centre_cfg])
    site = make_gateway(tmp_path / "a", "site-a", [forwarder_entry([receiver(port)])])
    async with running(centre), running(site):
        sent = [alarm(n) for n in range(1, 4)]
        for event in sent:
            await site.journal.append(event)
        fwd = forwarder(site)
        await eventually(lambda: fwd.stats["duh"] == 3)
        await eventually(lambda: len(journal_events(site, "fwd", "dc09_forward.refused")) == 3)
        refused = journal_events(site, "fwd", "dc09_forward.refused")
        assert [e.data["event_id"] for e in refused] == [e.id for e in sent]
        assert journal_events(centre, "rx") == []
        rx = centre.runners["rx"].context
        assert rx is not None and rx.counters["duh_unknown_account"] == 3


async def test_a_receiver_that_keeps_refusing_is_logged_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The centre has another key for the account: every frame gets NAK, forever. The event is
    held (nothing is lost), and now an installer sees why: one warning, and the streak in the
    instance's health (before, only the nak counter grew)."""
    recorded = RecordedLog()
    monkeypatch.setattr(
        forwarder_module, "structlog", SimpleNamespace(get_logger=lambda _: recorded)
    )
    port = free_port()
    other_key = "F" * 32
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port, key_hex=other_key)])
    site = make_gateway(
        tmp_path / "a", "site-a", [forwarder_entry([receiver(port, key_hex=KEY_HEX)])]
    )
    async with running(centre), running(site):
        await site.journal.append(alarm(1))
        fwd = forwarder(site)
        await eventually(lambda: fwd.stats["nak"] >= 4)
        plugin = site.runners["fwd"].plugin
        assert plugin is not None
        health = plugin.health()
        assert health is not None
        assert health["receivers"]["arc"]["nak_streak"] >= 4
        assert health["receivers"]["arc"]["stats"].get("acked", 0) == 0
        assert journal_events(centre, "rx") == []
    warnings = [event for level, event in recorded.lines if level == "warning"]
    assert len([w for w in warnings if "keeps answering NAK" in w]) == 1, recorded.lines
