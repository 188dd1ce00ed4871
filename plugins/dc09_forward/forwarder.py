"""One receiver's delivery loop: journal records in, DC-09 messages out, ACK moves the cursor.

The asyncio half of the forwarder; the decisions live in sans-IO objects — what to send
(:mod:`.encode`), under which sequence number and time (:mod:`.outbox`), over which path
(:mod:`.paths`), what an answer means (:mod:`.replies`). DC-09 has one message outstanding
per connection, so ``connections`` workers each send one event at a time; a record is taken
only when no earlier record of the same device is still out, so each device's events reach
the receiver in journal order. Each event is sent until the receiver ACKs it: a timeout or
broken connection is retried (and, repeated, fails over), a NAK re-stamps it with the
receiver's time and sends it again, a DUH skips it with a ``dc09_forward.refused`` alarm.
The journal cursor passes a record only once it and everything before it is settled, so a
restart resends at most the events in flight — with their old sequence numbers and
timestamps, which the receiver recognises as repeats.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gateway.journal import Consumer, JournalRecord
from gateway.model.event import Event
from plugins.dc09_forward.config import ForwardConfig, ReceiverConfig
from plugins.dc09_forward.encode import encode
from plugins.dc09_forward.link import LinkError, PathLink
from plugins.dc09_forward.outbox import InFlight, Outbox
from plugins.dc09_forward.paths import PathRouter, Role, Switch
from plugins.dc09_forward.replies import Answer, Reply, read_reply
from plugins.sia_dc09.dc09 import Dc09Error, Key, Token, build_frame

READ_BATCH = 512
COMMIT_EVERY_S = 0.05
"""The cursor is handed to the journal at most this often (each is a write); ``acked`` in the
instance state is what prevents a resend, so a lagging cursor costs nothing."""
LOGGED_PER_REASON = 20
NAKS_BEFORE_WARNING = 3
"""NAKs in a row for one event before it is logged: a wrong key or account NAKs forever, and
the counters alone gave an installer no sign of it."""
"""Failures are logged one by one up to this many per reason, then only counted."""


@dataclass(frozen=True)
class Hooks:
    """What the loop needs from the plugin context, as plain callables (testable, no ctx)."""

    now: Callable[[], datetime]
    monotonic: Callable[[], float]
    load: Callable[[], Any]
    save: Callable[[dict[str, Any]], None]
    durable: Callable[[], Awaitable[None]]
    """Until what ``save`` wrote would outlive a crash (shared by the connections asking)."""
    heard: Callable[[Role], Awaitable[None]]
    refused: Callable[[Role, InFlight, Event, Reply], Awaitable[None]]


class ReceiverForwarder:
    def __init__(
        self,
        receiver: ReceiverConfig,
        settings: ForwardConfig,
        consumer: Consumer,
        hooks: Hooks,
        counters: Counter[str],
        instance: str,
    ) -> None:
        self.receiver = receiver
        self.settings = settings
        self.consumer = consumer
        self.hooks = hooks
        self.counters = counters
        self.instance = instance
        self.key: Key | None = receiver.key()
        self.outbox = Outbox(hooks.load())
        roles = (Role.PRIMARY, Role.BACKUP) if receiver.backup is not None else (Role.PRIMARY,)
        self.router = PathRouter(
            roles,
            failover_after=settings.failover_after,
            failback_after=settings.failback_after,
            link_test_s=settings.link_test_s,
            probe_s=settings.probe_s,
        )
        paths = {Role.PRIMARY: receiver.primary, Role.BACKUP: receiver.backup}
        self.links = {
            role: [PathLink(path.host, path.port, counters) for _ in range(settings.connections)]
            for role, path in paths.items()
            if path is not None
        }
        self.log = structlog.get_logger("anfang.plugin.dc09_forward").bind(
            instance=instance, receiver=receiver.name
        )
        self.stats: Counter[str] = Counter()
        """This receiver's own counts (acked, nak, duh, failover, …), for tests and status."""
        self.acked_on: Counter[Role] = Counter()
        self.first_ack_at: dict[Role, float] = {}
        """Monotonic time of the first ACK of an event on each path (what the bench reads)."""
        self._logged: Counter[str] = Counter()
        self.nak_streak = 0
        """NAKs in a row for the event being sent: the receiver keeps refusing it."""
        self._committed_at = 0.0
        self._ready: deque[JournalRecord] = deque()
        """Read from the journal, not yet taken by a worker."""
        self._busy: set[str] = set()
        """Devices with an event out: their next event waits (per-device order)."""
        self._changed = asyncio.Event()
        self._reading = asyncio.Lock()

    # -- the loops -------------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._deliver(), name=f"{self.instance}:{self.receiver.name}:send")
            tasks.create_task(self._supervise(), name=f"{self.instance}:{self.receiver.name}:null")

    async def close(self) -> None:
        self._commit(force=True)
        for links in self.links.values():
            for link in links:
                await link.close()

    async def _deliver(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            for slot in range(self.settings.connections):
                tasks.create_task(self._worker(slot))

    async def _worker(self, slot: int) -> None:
        while True:
            record = await self._take()
            device = _device(record.source)
            try:
                await self._forward(record, slot)
            finally:
                self._busy.discard(device)
                self._changed.set()
            self.outbox.settle(record.seq, self.consumer.position)
            self._commit()

    async def _take(self) -> JournalRecord:
        """The first ready record whose device has nothing out and no earlier record waiting;
        reads the journal when none is ready."""
        while True:
            blocked: set[str] = set()
            for index, record in enumerate(self._ready):
                device = _device(record.source)
                if device in self._busy or device in blocked:
                    blocked.add(device)
                    continue
                del self._ready[index]
                self._busy.add(device)
                return record
            self._changed.clear()
            if len(self._ready) >= READ_BATCH:
                await self._changed.wait()  # everything ready waits for a busy device
                continue
            if self._reading.locked():
                await self._changed.wait()
                continue
            async with self._reading:
                batch = await self.consumer.next_batch(READ_BATCH, timeout=1.0)
                for record in batch:
                    self.outbox.read(record.seq)
                self._ready.extend(batch)
                if not batch:
                    self.outbox.caught_up(self.consumer.position)
                    self._commit(force=True)
            self._changed.set()

    async def _supervise(self) -> None:
        """NULL link tests on every path that is due one, each path on its own."""
        tick = max(0.02, min(1.0, self.settings.link_test_s / 4, self.settings.probe_s / 4))
        running: dict[Role, asyncio.Task[None]] = {}
        try:
            while True:
                await asyncio.sleep(tick)
                now = self.hooks.monotonic()
                for role, links in self.links.items():
                    task = running.get(role)
                    if task is not None and not task.done():
                        continue
                    if not any(link.busy for link in links) and self.router.link_test_due(
                        role, now
                    ):
                        running[role] = asyncio.create_task(self._link_test(role))
        finally:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)

    # -- one event -------------------------------------------------------------------------------

    async def _forward(self, record: JournalRecord, slot: int) -> None:
        """Send one record until it is settled; returns without sending what has no code."""
        if self.outbox.done(record.seq):
            self.stats["already_delivered"] += 1
            return
        event = record.content
        if not isinstance(event, Event) or event.plugin == self.instance:
            # tombstones, and this forwarder's own refusals (a DUH must not refuse its report)
            self._count("not_forwarded")
            return
        report = encode(event, self.receiver.format, self.receiver.account, self.settings.unmapped)
        if report is None:
            self._count("skipped_no_code")
            self._note("no code", f"{event.kind}/{event.phase}", seq=record.seq)
            return
        if report.dropped:
            self.stats["fields_dropped"] += 1
        inflight = self.outbox.begin(
            record.seq, event.id, report.token.value, report.data, self.hooks.now()
        )
        if inflight.resumed:
            self.stats["resent_after_restart"] += 1
        self.hooks.save(self.outbox.snapshot())  # before the first send: a restart resends it
        if not inflight.resumed:  # as it was: the same seq and timestamp, never a new pair
            await self.hooks.durable()
        await self._until_settled(event, record.seq, slot)

    async def _until_settled(self, event: Event, journal_seq: int, slot: int) -> None:
        delay = self.settings.retry_delay_s
        naks = 0
        while True:
            inflight = self.outbox.inflight[journal_seq]
            role = self.router.active
            try:
                frame = self._frame(inflight)
            except Dc09Error as exc:  # cannot happen with encode's output; never loop on it
                self._count("unsendable")
                self._note("unsendable", str(exc), seq=inflight.journal_seq)
                return
            reply = await self._attempt(role, slot, frame, inflight.seq)
            if reply is None:
                if self.router.active is not role:  # switched paths: try the new one at once
                    delay = self.settings.retry_delay_s
                    continue
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_delay_s)
                continue
            if reply.answer is Answer.ACK:
                if naks >= NAKS_BEFORE_WARNING:
                    self.log.info(
                        "the receiver accepts events again", after_naks=naks, role=role.value
                    )
                self.nak_streak = 0
                self._count("acked")
                self.acked_on[role] += 1
                self.first_ack_at.setdefault(role, self.hooks.monotonic())
                return
            if reply.answer is Answer.DUH:
                self._count("duh")
                self.log.warning(
                    "the receiver refused an event (DUH); skipped",
                    journal_seq=inflight.journal_seq,
                    kind=event.kind,
                    data=inflight.data,
                )
                await self.hooks.refused(role, inflight, event, reply)
                return
            # NAK: adopt the receiver's clock and send again; repeated NAKs back off
            self._count("nak")
            self.nak_streak += 1
            if naks + 1 == NAKS_BEFORE_WARNING:  # once per stuck event, not once per retry
                self.log.warning(
                    "the receiver keeps answering NAK; the event is held and retried (check "
                    "the account's key and key format, the account number and the clocks)",
                    role=role.value,
                    journal_seq=inflight.journal_seq,
                    naks=naks + 1,
                )
            if reply.timestamp is not None:
                self.outbox.resync(journal_seq, reply.timestamp, self.hooks.now())
                self._count("resync")
                self.hooks.save(self.outbox.snapshot())
            if naks > 0:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_delay_s)
            naks += 1

    def _frame(self, inflight: InFlight) -> bytes:
        return build_frame(
            Token(inflight.token),
            inflight.seq,
            self.receiver.account,
            inflight.data,
            receiver=self.receiver.receiver,
            line=self.receiver.line,
            timestamp=inflight.stamp,
            key=self.key,
        )

    async def _attempt(self, role: Role, slot: int, frame: bytes, seq: int) -> Reply | None:
        """Send on ``role``; the answer when the path answered (ACK, NAK or DUH), None when
        it failed (the router has counted it and may have switched paths)."""
        link = self.links[role][slot]
        self.router.attempt(role, self.hooks.monotonic())
        try:
            raw = await link.exchange(frame, self.settings.answer_timeout_s)
        except LinkError as exc:
            self._failed(role, str(exc))
            return None
        reply = read_reply(raw, seq=seq, account=self.receiver.account, key=self.key)
        if reply.answer is Answer.BAD:
            await link.close()  # whatever it is out of step with, start a fresh connection
            self._failed(role, reply.detail)
            return None
        await self._answered(role)
        return reply

    async def _link_test(self, role: Role) -> None:
        """A NULL message on ``role``; an ACK (or a NAK, which re-syncs the clock) is life."""
        inflight_stamp = self.outbox.stamp(self.hooks.now())
        try:
            frame = build_frame(
                Token.NULL,
                0,
                self.receiver.account,
                "",
                receiver=self.receiver.receiver,
                line=self.receiver.line,
                timestamp=inflight_stamp,
                key=self.key,
            )
        except Dc09Error as exc:
            self._note("link test", str(exc))
            return
        self._count("link_tests")
        reply = await self._attempt(role, 0, frame, 0)
        if reply is not None and reply.answer is Answer.NAK and reply.timestamp is not None:
            self.outbox.resync(None, reply.timestamp, self.hooks.now())
            self._count("resync")
            self.hooks.save(self.outbox.snapshot())

    # -- path health -----------------------------------------------------------------------------

    async def _answered(self, role: Role) -> None:
        switch = self.router.answered(role)
        if switch is not None:
            self._switched(switch, "failback")
        try:
            await self.hooks.heard(role)
        except Exception as exc:  # supervision bookkeeping must never cost a delivery
            self._note("heard", repr(exc))

    def _failed(self, role: Role, detail: str) -> None:
        self._count(f"{role}_failures")
        self._note(f"{role} failed", detail)
        switch = self.router.failed(role)
        if switch is not None:
            self._switched(switch, "failover" if switch.new is Role.BACKUP else "switch")

    def _switched(self, switch: Switch, what: str) -> None:
        self._count(what)
        self.log.warning(f"{what}: now sending over the {switch.new} path", reason=switch.reason)

    # -- bookkeeping -----------------------------------------------------------------------------

    def _commit(self, *, force: bool = False) -> None:
        """Save the outbox and move the durable cursor over everything settled (sent,
        skipped or filtered out), at most every COMMIT_EVERY_S unless forced."""
        now = time.monotonic()
        if not force and now - self._committed_at < COMMIT_EVERY_S:
            return
        self._committed_at = now
        self.hooks.save(self.outbox.snapshot())
        if self.outbox.acked > self.consumer.committed:
            self.consumer.commit(self.outbox.acked)

    def _count(self, what: str) -> None:
        self.stats[what] += 1
        self.counters[what] += 1

    def _note(self, reason: str, detail: str, **fields: Any) -> None:
        if self._logged[reason] < LOGGED_PER_REASON:
            self._logged[reason] += 1
            self.log.info(reason, detail=detail, **fields)


def _device(source: str) -> str:
    """``site/device`` of an address: the unit whose events keep their order."""
    return "/".join(source.split("/", 2)[:2])
