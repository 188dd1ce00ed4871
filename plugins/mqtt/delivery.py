"""The feed: journal records to the broker in order, QoS 1, through a bounded in-flight window.

The cursor moves only over records the broker acknowledged (PUBACK), and only as far as the
contiguous acknowledged prefix, so a crash or a broken connection can repeat records (at least
once; the event ``id`` de-duplicates) but never skip one. Records out when a connection breaks
are sent first on the next one, so the order on the broker is the journal's, repeats aside.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from gateway.journal import Consumer, JournalRecord
from plugins.mqtt import derive
from plugins.mqtt.payloads import event_payload, telemetry_payload
from plugins.mqtt.puback import PubackFutures
from plugins.mqtt.topics import Topics
from plugins.mqtt.window import AckWindow

READ_BATCH = 512
REFUSED = 0x80
"""MQTT 5 reason codes from 0x80 up are failures (0x10, "no matching subscribers", is not)."""
COMMIT_EVERY_S = 0.05
"""Acknowledged positions are handed to the journal at most this often (and whenever the
connector has caught up): each hand-over is a cursor write, and one per PUBACK would
make the journal's writer commit thousands of times a second for nothing. A crash repeats at
most this much more."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = False


class Backlog:
    """The bounds on what is still delivered; older or further-behind records are skipped."""

    def __init__(self, max_records: int, max_age_s: float, head: Callable[[], int]) -> None:
        self.max_records = max_records
        self.max_age_s = max_age_s
        self._head = head

    def too_old(self, record: JournalRecord, now_s: float) -> bool:
        return (
            now_s - record.ts_us / 1e6 > self.max_age_s
            or self._head() - record.seq >= self.max_records
        )


class Delivery:
    def __init__(
        self,
        consumer: Consumer,
        topics: Topics,
        window: int,
        backlog: Backlog,
        counters: Counter[str],
        *,
        point_state: bool = False,
        on_telemetry: Callable[[str, dict[str, float]], list[Message]] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.consumer = consumer
        self.topics = topics
        self.window = AckWindow(window)
        self.backlog = backlog
        self.counters = counters
        self.point_state = point_state
        self.on_telemetry = on_telemetry
        self._wall = wall_clock
        self._out: dict[int, tuple[JournalRecord, float]] = {}
        """In the window, not yet acknowledged, in send order: seq -> (record, monotonic time
        it was handed to paho)."""
        self._ready: deque[JournalRecord] = deque()  # read from the journal, not yet sent
        self._pubacks: PubackFutures | None = None  # the connection's, while one is up
        self._room: asyncio.Future[None] | None = None  # set when a full window frees a slot
        self._to_commit = 0
        self._committed_at = 0.0
        self.skipped_unreported = 0
        self.delivered = 0

    def stalled_s(self) -> float:
        """How long the oldest publish out has waited for its PUBACK (0 when none is out)."""
        if not self._out:
            return 0.0
        return time.monotonic() - next(iter(self._out.values()))[1]

    @property
    def oldest_pending_ts_us(self) -> int | None:
        """Gateway time of the oldest record read but not acknowledged (None: none held)."""
        if self._out:
            return next(iter(self._out.values()))[0].ts_us
        if self._ready:
            return self._ready[0].ts_us
        return None

    def messages_for(self, record: JournalRecord) -> list[Message]:
        messages = [Message(self.topics.event(record.kind, record.source), event_payload(record))]
        if self.point_state:
            state = derive.point_state(record)
            if state is not None:
                body = b'{"active":%s,"kind":"%s","phase":"%s","seq":%d,"at_us":%d}' % (
                    b"true" if state.active else b"false",
                    state.kind.encode(),
                    state.phase.encode(),
                    record.seq,
                    record.ts_us,
                )
                messages.append(Message(self.topics.point_state(record.source), body, True))
            values = derive.telemetry(record)
            if values:
                if self.on_telemetry is not None:
                    messages.extend(self.on_telemetry(record.source, values))
                payload = telemetry_payload(values, record.source, record.ts_us)
                messages.append(Message(self.topics.telemetry(record.source), payload, True))
        return messages

    async def run(self, client: aiomqtt.Client) -> None:
        """Deliver until the connection breaks (the plugin's task group learns that from
        aiomqtt and cancels this).

        One sender takes records in journal order and hands each to paho at once while fewer
        than ``window`` await their PUBACK: paho sends in call order, so the broker receives
        the journal's order. A PUBACK frees its slot through a future's callback, so no task
        waits per message. No per-publish timer either: a silent connection is found by the
        keep-alive, a broker that stops acknowledging by stalled_s()."""
        self._requeue_unacknowledged()
        loop = asyncio.get_running_loop()
        with PubackFutures(client) as pubacks:
            self._pubacks = pubacks
            try:
                while True:
                    if self.window.full:
                        self._room = loop.create_future()
                        await self._room
                        continue
                    self._send(pubacks, await self._take())
            finally:
                self._pubacks = None
                self._room = None

    def _send(self, pubacks: PubackFutures, record: JournalRecord) -> None:
        seq = record.seq
        self.window.sent(seq)
        self._out[seq] = (record, time.monotonic())
        future: asyncio.Future[Any]
        if not self.point_state:  # the common case: one message, nothing derived
            topic = self.topics.event(record.kind, record.source)
            future = pubacks.publish(topic, event_payload(record))
        else:
            futures = [
                pubacks.publish(m.topic, m.payload, retain=m.retain)
                for m in self.messages_for(record)
            ]
            future = futures[0] if len(futures) == 1 else asyncio.gather(*futures)
        future.add_done_callback(functools.partial(self._puback, pubacks, seq))

    def _puback(self, pubacks: PubackFutures, seq: int, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None or pubacks is not self._pubacks:
            return  # that connection is gone: the record goes again, first, on the next one
        reasons = future.result()
        if any(code >= REFUSED for code in (reasons if isinstance(reasons, list) else [reasons])):
            # A v5 broker acknowledged but refused it (ACL, quota): sending it again would be
            # refused again and stop the feed behind it. Counted, then passed over.
            self.counters["events_refused_by_broker"] += 1
        del self._out[seq]
        self.delivered += 1
        self.counters["events_delivered"] += 1
        self._acked(seq)
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)

    def _requeue_unacknowledged(self) -> None:
        """Records out on the last connection go first, in order, on this one."""
        again = [self._out[seq][0] for seq in self.window.unacked()]
        self.counters["republished"] += len(again)
        self._ready.extendleft(reversed(again))
        self._out.clear()
        self.window.clear()

    async def _take(self) -> JournalRecord:
        while True:
            if not self._ready:
                self.flush()
                if self.window.empty and self.consumer.position > self.consumer.committed:
                    self.consumer.commit(self.consumer.position)  # past filtered records
                self._ready.extend(await self.consumer.next_batch(READ_BATCH))
                continue
            record = self._ready.popleft()
            if self.backlog.too_old(record, self._wall()):
                self.counters["skipped_backlog"] += 1
                self.skipped_unreported += 1
                self.window.sent(record.seq)
                self._acked(record.seq)
                continue
            return record

    def flush(self) -> None:
        """Hand the newest acknowledged position to the journal (durable with its next commit)."""
        if self._to_commit > self.consumer.committed:
            self.consumer.commit(self._to_commit)
        self._committed_at = time.monotonic()

    def _acked(self, seq: int) -> None:
        commit = self.window.acked(seq)
        if commit is not None:
            self._to_commit = commit
            # caught up (nothing out, nothing read): the sender may wait long for the next
            # record, so hand the position over now rather than at its next read
            caught_up = self.window.empty and not self._ready
            if caught_up or time.monotonic() - self._committed_at >= COMMIT_EVERY_S:
                self.flush()
