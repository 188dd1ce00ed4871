"""Keeps the registry's area state in step with the journal, through a durable cursor.

The tracker reads events and command results in journal order and applies each transition
(:mod:`gateway.registry.areas`) before it commits its cursor, so after a crash it replays at most
the last batch — every transition is idempotent — and never misses one.
"""

from __future__ import annotations

import asyncio

import structlog

from gateway.journal import Filter, Journal, JournalRecord
from gateway.model.command import CommandResult
from gateway.model.event import Event
from gateway.registry.areas import change_for_event, change_for_result
from gateway.registry.registry import Registry

log = structlog.get_logger("anfang.areas")

CURSOR = "host.areas"


class AreaTracker:
    def __init__(self, journal: Journal, registry: Registry) -> None:
        self._journal = journal
        self._registry = registry
        self.applied_seq = 0
        self._progress = asyncio.Condition()

    async def run(self) -> None:
        consumer = self._journal.subscribe(
            Filter.build(types=["event", "result"]), CURSOR, new_cursor_start="head"
        )
        try:
            while True:
                batch = await consumer.next_batch()
                for record in batch:
                    self.apply(record)
                if batch:
                    consumer.commit(batch[-1].seq)
                async with self._progress:
                    self.applied_seq = consumer.position
                    self._progress.notify_all()
        finally:
            consumer.close()

    def apply(self, record: JournalRecord) -> None:
        payload = record.model
        if isinstance(payload, Event):
            area = self._registry.apply_area_change(
                payload.source, payload.area, change_for_event(payload)
            )
        elif isinstance(payload, CommandResult):
            area = self._registry.apply_area_change(
                payload.target, None, change_for_result(payload)
            )
        else:
            return
        if area is not None:
            log.debug(
                "area state",
                area=area.address,
                arming=area.arming.value,
                bypassed=len(area.bypassed),
                latched=len(area.latched),
                seq=record.seq,
            )

    async def caught_up(self, seq: int) -> None:
        """Wait until every record up to ``seq`` has been applied."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.applied_seq >= seq)
