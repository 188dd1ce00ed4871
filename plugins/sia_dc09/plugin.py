"""The SIA DC-09 receiver plugin: panels report over TCP/UDP, the gateway ACKs once durable.

Each account becomes a panel device under its mapped site (unknown accounts under
``<site>/unknown-<account>``, flagged); zones appear as points and areas as they are reported;
link tests (NULL) keep the registry's supervision of the account alive; the panel's clock is
reported to the registry so ``device.clock_skew`` works from the first frame.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gateway.journal import Filter, JournalReader
from gateway.model.event import Event
from gateway.model.kinds import KindSpec
from gateway.sdk import ConformanceSpec, Plugin, PluginContext
from gateway.sdk.accounts import ensure_panel_area
from gateway.sdk.codec import CodecSpec
from gateway.sdk.sender import SenderSpec
from plugins.sia_dc09.codec import CODECS
from plugins.sia_dc09.config import ReceiverConfig
from plugins.sia_dc09.exercise import exercise
from plugins.sia_dc09.receiver import Account, Receiver, accounts_from
from plugins.sia_dc09.sender import SENDER
from plugins.sia_dc09.sia.kinds import UNMAPPED
from plugins.sia_dc09.transport import TcpListener, UdpListener

CLOCK_REPORT_EVERY_S = 30.0
"""A panel's clock is reported to the registry at most this often (each report is a write)."""


class SiaDc09Plugin(Plugin[ReceiverConfig]):
    name = "sia_dc09"
    version = "0.1.0"
    description = "Alarm receiver: SIA DC-09 (SIA-DCS, ADM-CID, encrypted) over TCP and UDP"
    protocols = ("sia-dc09", "sia-dcs", "adm-cid", "contact-id")
    Config = ReceiverConfig
    device_kinds = ("panel",)
    kinds: ClassVar[tuple[KindSpec, ...]] = (UNMAPPED,)
    codecs: ClassVar[tuple[CodecSpec, ...]] = CODECS
    senders: ClassVar[tuple[SenderSpec, ...]] = (SENDER,)
    conformance = ConformanceSpec(
        example_config={
            "host": "127.0.0.1",
            "tcp_port": 0,
            "udp_port": 0,
            "accounts": [{"account": "1234", "supervision_s": 300}],
        },
        exercise=exercise,
    )

    def __init__(self, config: ReceiverConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.receiver = Receiver(
            config,
            accounts_from(config, ctx.site),
            ctx.site,
            self._publish,
            self._alive,
            ctx.clock.now,
            ctx.clock.monotonic,
            ctx.counters,
            ctx.instance_id,
        )
        self.tcp: TcpListener | None = None
        self.udp: UdpListener | None = None
        self._known: set[str] = set()
        self._clock_reported: dict[str, float] = {}

    async def start(self) -> None:
        for account in self.receiver.accounts.values():
            self._register(account)
        await self._load_fingerprints()
        c = self.config
        if c.tcp_port is not None:
            self.tcp = TcpListener(
                self.receiver.handle,
                self._refuse,
                self.ctx.counters,
                max_frame=c.max_frame,
                binary_crc=c.variants.binary_crc,
                max_connections=c.max_connections,
                max_per_address=c.max_connections_per_address,
                idle_timeout_s=c.idle_timeout_s,
            )
            await self.tcp.start(c.host, c.tcp_port)
        if c.udp_port is not None:
            self.udp = UdpListener(self.receiver.handle, self._refuse, self.ctx.counters)
            await self.udp.start(c.host, c.udp_port)
        self.ctx.log.info(
            "receiving",
            host=c.host,
            tcp=self.tcp.port if self.tcp else None,
            udp=self.udp.port if self.udp else None,
            accounts=len(self.receiver.accounts),
        )

    async def stop(self) -> None:
        for listener in (self.tcp, self.udp):
            if listener is not None:
                await listener.close()

    def health(self) -> dict[str, Any]:
        """For ``/api/v1/instances``: panels connected now, frames remembered for repeats."""
        return {
            "tcp_connections_open": self.tcp.open_connections if self.tcp is not None else 0,
            "dedup_entries": len(self.receiver.dedup),
        }

    def _refuse(self, error: Any) -> bytes:
        return self.receiver.refuse(error, self.ctx.clock.now())

    # -- registry and journal ------------------------------------------------------------------

    def _register(self, account: Account) -> None:
        if account.device in self._known:
            return
        self.ctx.registry.upsert_device(
            account.device,
            kind="panel",
            plugin=self.ctx.instance_id,
            local_id=account.account,
            name=account.name,
            unknown=not account.known,
        )
        if account.supervision_s is not None:
            self.ctx.registry.supervise(account.device, account.supervision_s)
        self._known.add(account.device)

    async def _publish(self, event: Event, account: Account) -> None:
        self._register(account)
        if event.source != account.device and event.source not in self._known:
            self.ctx.registry.upsert_point(event.source, kind="zone")
            self._known.add(event.source)
        if event.area:
            self._area(account, event.area)
        await self.ctx.publish(event)
        if event.occurred_at != event.received_at:  # the frame carried the panel's time
            await self._report_clock(account, event)

    async def _alive(self, account: Account) -> None:
        """A frame was heard. Unknown accounts are registered only once they report an event,
        so link tests from made-up accounts cannot fill the registry."""
        if account.known or account.device in self._known:
            await self.ctx.registry.heard(account.device)

    def _area(self, account: Account, number: str) -> None:
        ensure_panel_area(self.ctx.registry, self._known, account.device, number)

    async def _report_clock(self, account: Account, event: Event) -> None:
        mono = self.ctx.clock.monotonic()
        if mono - self._clock_reported.get(account.device, -CLOCK_REPORT_EVERY_S) < (
            CLOCK_REPORT_EVERY_S
        ):
            return
        self._clock_reported[account.device] = mono
        await self.ctx.report_clock(account.device, event.occurred_at)

    async def _load_fingerprints(self) -> None:
        """Frames journaled within the de-duplication window, so repeats after a restart are
        recognised (a frame counts as seen exactly when its events are durable)."""
        journal = getattr(self.ctx, "journal", None)
        if journal is None:
            return
        window = self.config.dedup_window_s
        now = self.ctx.clock.now()
        since = now - timedelta(seconds=window)
        entries = await asyncio.to_thread(
            _fingerprints, journal.data_dir, self.ctx.instance_id, since
        )
        mono = self.ctx.clock.monotonic()
        self.receiver.load_fingerprints(
            [(fp, mono - (now - at).total_seconds(), i, n) for fp, at, i, n in entries]
        )


def _fingerprints(
    data_dir: Any, instance: str, since: datetime
) -> list[tuple[str, datetime, int, int]]:
    reader = JournalReader.open(data_dir)
    try:
        since_us = int(since.astimezone(UTC).timestamp() * 1_000_000)
        out = []
        for record in reader.query(Filter.build(), since_us=since_us, limit=10_000_000):
            event = record.model
            if not isinstance(event, Event) or event.plugin != instance:
                continue
            dc09 = event.data.get("dc09")
            if isinstance(dc09, dict) and isinstance(dc09.get("fp"), str):
                out.append((dc09["fp"], event.received_at, dc09.get("i", 0), dc09.get("n", 1)))
        return out
    finally:
        reader.close()
