"""Keeps the registry's area state in step with the journal.

The tracker reads events and command results in journal order and applies each transition
(:mod:`gateway.registry.areas`). Its position lives in the state database next to the area rows
and is written after them, so the two can never disagree in the dangerous direction: after a
crash or power cut the position is at most behind the areas, the last records are replayed, and
every transition is idempotent. A missing state database is rebuilt from the whole journal.
"""

from __future__ import annotations

import asyncio

import structlog

from gateway.journal import Filter, Journal, JournalRecord
from gateway.journal.progress import Progress
from gateway.journal.records import RecordType
from gateway.model.command import CommandResult
from gateway.model.event import Event
from gateway.registry.areas import change_for_event, change_for_result
from gateway.registry.registry import Registry
from gateway.registry.statedb import StateDB

log = structlog.get_logger("anfang.areas")

POSITION_NS, POSITION_KEY = "host", "areas.position"
RETRY_S = 1.0


class AreaTracker:
    def __init__(self, journal: Journal, registry: Registry, state: StateDB) -> None:
        self._journal = journal
        self._registry = registry
        self._state = state
        self._progress = Progress(int(state.get(POSITION_NS, POSITION_KEY) or 0))

    async def run(self) -> None:
        """Follow the journal for good; a failure is logged and the tracker resumes."""
        while True:
            try:
                await self._follow()
            except Exception:
                log.exception("area tracker failed; resuming", position=self.applied_seq)
                await asyncio.sleep(RETRY_S)

    async def _follow(self) -> None:
        consumer = self._journal.subscribe(
            Filter.build(types=["event", "result"]), after=self.applied_seq
        )
        try:
            while True:
                batch = await consumer.next_batch()
                for record in batch:
                    self.apply(record)
                if batch:
                    self._state.put(POSITION_NS, POSITION_KEY, batch[-1].seq)
                self._progress.advance(consumer.position)
        finally:
            consumer.close()

    def apply(self, record: JournalRecord) -> None:
        if not _may_change_an_area(record):
            return
        if record.rtype is RecordType.EVENT and not self._registry.may_have_area(record.source):
            return  # decided from the header: the event is never read
        payload = record.content
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
        await self._progress.reached(seq)

    @property
    def applied_seq(self) -> int:
        """Every record up to this seq has been applied."""
        return self._progress.seq


def _may_change_an_area(record: JournalRecord) -> bool:
    """From the header alone: most events (tests, access, video) never touch an area."""
    if record.rtype is RecordType.RESULT:
        return record.phase == "ok" and record.kind.startswith(("area.", "zone."))
    return record.phase == "alarm" or record.kind.startswith(("arming.", "zone."))
