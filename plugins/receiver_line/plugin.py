"""The receiver-line bridge plugin: a hardware receiver's computer output, ACKed once durable.

The hardware receiver is a registry device (``<site>/<receiver.name>``) supervised at its
declared heartbeat interval: every line it sends counts as heard, so the registry raises
``device.offline`` when heartbeats stop and the restore when they come back. Each account is
a panel under its mapped site (unknown accounts under ``<site>/unknown-<account>``, flagged),
its zones appear as points and its areas as they are reported, as in the DC-09 receiver.
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
from plugins.receiver_line.bridge import Account, Bridge, accounts_from
from plugins.receiver_line.codec import CODEC
from plugins.receiver_line.config import LineConfig
from plugins.receiver_line.exercise import exercise
from plugins.receiver_line.kinds import UNSUPPORTED
from plugins.receiver_line.transport import Link, SerialLink, TcpClientLink, TcpServerLink

LAST_LINE_SCAN = 10_000
"""Newest journal records looked at for this instance's last line at start (other instances
interleave theirs; the repeat window is a minute, so its line is among the newest)."""


class ReceiverLinePlugin(Plugin[LineConfig]):
    name = "receiver_line"
    version = "0.1.0"
    description = (
        "Hardware alarm receiver bridge: Sur-Gard computer output (Contact ID, SIA, heartbeat) "
        "over TCP or serial, ACK after the journal commit"
    )
    protocols = ("sur-gard", "contact-id", "sia-dcs")
    Config = LineConfig
    device_kinds = ("receiver", "panel")
    kinds: ClassVar[tuple[KindSpec, ...]] = (UNSUPPORTED,)
    codecs: ClassVar[tuple[CodecSpec, ...]] = (CODEC,)
    conformance = ConformanceSpec(
        example_config={
            "transport": "tcp_server",
            "host": "127.0.0.1",
            "port": 0,
            "receiver": {"name": "sg-kit", "heartbeat_s": 30},
            "accounts": [{"account": "1234"}],
        },
        exercise=exercise,
    )

    def __init__(self, config: LineConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.receiver_address = f"{ctx.site}/{config.receiver.name}"
        self.bridge = Bridge(
            config,
            accounts_from(config, ctx.site),
            ctx.site,
            self.receiver_address,
            self._publish,
            self._heard,
            ctx.clock.now,
            ctx.clock.monotonic,
            ctx.counters,
            ctx.instance_id,
        )
        self.link: Link = self._link()
        self._known: set[str] = set()

    def _link(self) -> Link:
        kinds = {"tcp_client": TcpClientLink, "tcp_server": TcpServerLink, "serial": SerialLink}
        return kinds[self.config.transport](self.config, self.bridge.handle, self.ctx.counters)

    async def start(self) -> None:
        receiver = self.config.receiver
        self.ctx.registry.upsert_device(
            self.receiver_address, kind="receiver", plugin=self.ctx.instance_id
        )
        self.ctx.registry.supervise(self.receiver_address, receiver.supervision_s)
        for account in self.bridge.accounts.values():
            self._register(account)
        await self._load_last_line()
        link = self.link
        if isinstance(link, TcpServerLink):
            await link.start()
        elif isinstance(link, TcpClientLink | SerialLink):
            self.ctx.spawn(link.run(), name=link.name)
        self.ctx.log.info(
            "bridging",
            transport=self.config.transport,
            port=link.port if isinstance(link, TcpServerLink) else self.config.tcp_port,
            serial_port=self.config.serial_port,
            accounts=len(self.bridge.accounts),
        )

    async def stop(self) -> None:
        if isinstance(self.link, TcpServerLink):
            await self.link.close()

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
        self._known.add(account.device)

    async def _publish(self, event: Event, account: Account | None) -> None:
        if account is not None:
            self._register(account)
            device = account.device
        else:
            device = self.receiver_address
        if event.source != device and event.source not in self._known:
            self.ctx.registry.upsert_point(event.source, kind="zone")
            self._known.add(event.source)
        if event.area and account is not None:
            self._area(account, event.area)
        await self.ctx.publish(event)

    async def _heard(self) -> None:
        await self.ctx.registry.heard(self.receiver_address)

    def _area(self, account: Account, number: str) -> None:
        ensure_panel_area(self.ctx.registry, self._known, account.device, number)

    async def _load_last_line(self) -> None:
        """The newest line journaled by this instance, so that a retransmission after a
        restart (the ACK may never have left) is recognised, not journaled twice."""
        journal = getattr(self.ctx, "journal", None)
        if journal is None:
            return
        since = self.ctx.clock.now() - timedelta(seconds=self.config.repeat_window_s)
        last = await asyncio.to_thread(_last_line, journal.data_dir, self.ctx.instance_id, since)
        if last is None:
            return
        fp, indexes, count, at = last
        age = (self.ctx.clock.now() - at).total_seconds()
        self.bridge.repeats.seed(fp, indexes, count, self.ctx.clock.monotonic() - age)


def _last_line(
    data_dir: Any, instance: str, since: datetime
) -> tuple[str, set[int], int, datetime] | None:
    """(fingerprint, indexes journaled, events in the line, when) of the newest line."""
    reader = JournalReader.open(data_dir)
    try:
        since_us = int(since.astimezone(UTC).timestamp() * 1_000_000)
        records = reader.query(
            Filter.build(), since_us=since_us, limit=LAST_LINE_SCAN, descending=True
        )
        found: tuple[str, set[int], int, datetime] | None = None
        for record in records:
            event = record.model
            if not isinstance(event, Event) or event.plugin != instance:
                continue
            line = event.data.get("receiver_line")
            if not isinstance(line, dict) or not isinstance(line.get("fp"), str):
                continue
            if found is None:
                found = (line["fp"], set(), int(line.get("n", 1)), event.received_at)
            elif line["fp"] != found[0]:
                break
            found[1].add(int(line.get("i", 0)))
        return found
    finally:
        reader.close()
