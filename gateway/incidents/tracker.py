"""The incident tracker: opens incidents for alarms, escalates the unacknowledged, and carries out
what operators and rules do to them.

It follows the journal as the area tracker does. Its position and the incidents it has applied
live in the state database, written in one transaction with the position last, so after a crash
the position is at most behind the incidents and the last records are read again; every change
is idempotent (:func:`gateway.incidents.model.apply`, ``seen_seq``). A decision that creates
something — an incident, an escalation, a note — is journaled first and applied second. On start
the tracker applies the ``incident.*`` records after its position before judging anything, so an
alarm read again after a crash finds the incident it already opened.

A tracker seen for the first time (no position) judges alarms from the journal's head: installing
incidents on a site with a year of history must not open a year of incidents.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import structlog

from gateway.incidents.config import IncidentClass, IncidentsConfig
from gateway.incidents.due import DueQueue
from gateway.incidents.escalation import next_escalation
from gateway.incidents.model import (
    Incident,
    IncidentState,
    PoliceReport,
    apply,
    join,
)
from gateway.incidents.retention import closed_to_forget
from gateway.journal import Filter, Journal, JournalRecord
from gateway.journal.filters import kind_matches
from gateway.journal.progress import Progress
from gateway.model.entities import Area, ArmingState
from gateway.model.event import Event
from gateway.model.ids import new_id
from gateway.model.kinds import CORE_KINDS, Phase
from gateway.model.notify import NotifyRequest, request_event
from gateway.registry.statedb import StateDB
from gateway.sdk.clock import Clock

log = structlog.get_logger("anfang.incidents")

INCIDENTS_PLUGIN = "incidents"
"""The ``plugin`` of every record the tracker journals."""
_DERIVED = frozenset({INCIDENTS_PLUGIN, "rules"})
"""Events the gateway derived itself open no incident by their class: a rule's
``intrusion.verified`` belongs to the intrusion's incident, and a rule that wants one of its own
says ``incident: {class: …}``."""
CORE_PRIORITY = {spec.name: spec.priority for spec in CORE_KINDS}
STATE_NS = "incident"
POSITION_NS, POSITION_KEY = "host", "incidents.position"
RETRY_S = 1.0
YIELD_EVERY = 16
"""Records judged between turns of the event loop: in a storm each opens an incident (about
0.1 ms of work), and a batch of 512 judged in one go held every other task for 50 ms."""
SAVE_EVERY_S = 5.0
"""How often the position and the changed incidents are saved. Every alarm that joins an
incident changes it, so under a hundred panels' alarms every open incident is saved each time
(800 incidents, 3.6 MB of state a second at 1 s); after a crash the records since the last save
are judged again, a few seconds of them."""
SAVE_SLICE = 32
"""Incidents serialized and committed per turn of the event loop in the periodic save: 800
incidents of about 4.5 KB each took 18 ms to serialize and 16 ms to write in one go, and every
ACK waiting behind them was that late (bench/dc09_ingest.py, paced). A slice is about a
millisecond."""
PRUNE_EVERY_S = 60.0

AreaOf = Callable[[str, str | None], Area | None]


class IncidentError(Exception):
    """An operation the incident's state does not allow (HTTP 409), or an unknown id (404)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass
class Counters:
    opened: int = 0
    joined: int = 0
    restored: int = 0
    escalated: int = 0
    not_opened_disarmed: int = 0
    pruned: int = 0


class IncidentTracker:
    def __init__(
        self,
        config: IncidentsConfig,
        *,
        journal: Journal,
        state: StateDB,
        clock: Clock,
        area_of: AreaOf,
        areas_caught_up: Callable[[int], Any] | None = None,
    ) -> None:
        self.config = config
        self._journal = journal
        self._state = state
        self._clock = clock
        self._area_of = area_of
        self._areas_caught_up = areas_caught_up
        self.incidents: dict[str, Incident] = {}
        self._open_by_key: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()
        self._progress = Progress()
        self._timers_changed = asyncio.Event()
        self._due = DueQueue()
        self.counters = Counters()
        self._class_of = lru_cache(maxsize=4096)(self._classify)
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty: set[str] = set()
        self._saved_at = float("-inf")
        self._pruned_at = float("-inf")
        self._opened_for: set[str] = set()
        """Alarms after the saved position that already opened an incident (read again after a
        crash, or a batch judged again after a failed write, they must not open another, even
        if that incident is closed by now)."""
        self._opened_for_upto = 0
        """The newest seq an alarm in :attr:`_opened_for` can have; past it the set is empty."""
        self._unwritten: dict[str, tuple[asyncio.Future[int], str]] = {}
        """Incidents opened by alarms of the batch at hand, by id, with their alarm's id: the
        ``incident.opened`` record is with the writer. Kept out of the state DB, and the
        position not moved past their alarms, until the record is durable."""
        self._load()

    # -- life cycle ------------------------------------------------------------------------------

    def _load(self) -> None:
        for value in self._state.items(STATE_NS).values():
            incident = Incident.model_validate(value)
            self.incidents[incident.id] = incident
            if incident.is_open:
                self._open_by_key[(incident.source, incident.kind)] = incident.id
                self._due.push(incident)
        saved = self._state.get(POSITION_NS, POSITION_KEY)
        self._recall(int(saved) if saved is not None else 0)
        self._save()
        self._progress.advance(int(saved) if saved is not None else self._journal.committed_seq)
        if saved is None:  # from here on, every alarm counts, even one before the first batch
            self._state.put(POSITION_NS, POSITION_KEY, self.applied_seq)

    def _recall(self, position: int) -> None:
        """Apply the ``incident.*`` records journaled after ``position`` (all of them for a
        tracker without a position: the incidents must be known even if judging starts at the
        head)."""
        for record in self._journal.reader.scan_all(
            Filter.build(kinds=["incident"]),
            after_seq=position,
            upto_seq=self._journal.committed_seq,
        ):
            self._apply_record(record)
            if record.kind == "incident.opened" and isinstance(record.model, Event):
                self._opened_for.add(str(record.model.data.get("trigger")))
        self._opened_for_upto = self._journal.committed_seq

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="incident-tracker"),
            asyncio.create_task(self._escalate_forever(), name="incident-escalation"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._save_position()

    def reconfigure(self, config: IncidentsConfig) -> None:
        """New classes apply to alarms from now on; open incidents keep what they were given."""
        self.config = config
        self._class_of.cache_clear()
        self._timers_changed.set()

    # -- following the journal -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("incident tracker failed; resuming", position=self.applied_seq)
                await asyncio.sleep(RETRY_S)

    async def _follow(self) -> None:
        consumer = self._journal.subscribe(Filter.build(types=["event"]), after=self.applied_seq)
        try:
            while True:
                batch = await consumer.next_batch()
                try:
                    for n, record in enumerate(batch, 1):
                        await self._on_record(record)
                        if n % YIELD_EVERY == 0:
                            await asyncio.sleep(0)
                finally:  # whatever stopped the batch, its incidents stand only if written
                    if self._unwritten:
                        await self._settle_opens()
                self._progress.advance(consumer.position)
                if self._opened_for and self.applied_seq >= self._opened_for_upto:
                    self._opened_for.clear()
                if batch and self._clock.monotonic() - self._saved_at >= SAVE_EVERY_S:
                    await self._save_position()
        finally:
            consumer.close()

    async def _on_record(self, record: JournalRecord) -> None:
        if record.kind.startswith("incident."):
            return  # this tracker's own records: applied when written (recalled after a crash)
        if record.phase == "alarm":
            if self._class_of(record.kind) is not None or (record.source, record.kind) in (
                self._open_by_key
            ):
                await self._on_alarm(record)
        elif record.phase == "restore" and (record.source, record.kind) in self._open_by_key:
            await self._on_restore(record)

    def _apply_record(self, record: JournalRecord) -> None:
        event = record.model
        if isinstance(event, Event) and event.plugin == INCIDENTS_PLUGIN:
            self._applied(apply(self.incidents, event))

    def _applied(self, incident: Incident | None, *, timers: bool = True) -> None:
        """Index and mark a changed incident; ``timers=False`` for changes that move no
        escalation time (a joining alarm), so the escalation loop is not woken per alarm."""
        if incident is None:
            return
        key = (incident.source, incident.kind)
        if incident.is_open:
            self._open_by_key[key] = incident.id
        elif self._open_by_key.get(key) == incident.id:
            del self._open_by_key[key]
        self._dirty.add(incident.id)
        if timers:
            self._due.push(incident)
            self._timers_changed.set()

    def _save(self, among: Iterable[str] | None = None) -> None:
        """Write the incidents changed since the last save (only those ``among`` when given;
        not one whose opening record is not durable yet: it stays marked)."""
        chosen = self._dirty if among is None else (i for i in among if i in self._dirty)
        saved = [i for i in chosen if i not in self._unwritten]
        for incident_id in saved:
            self._state.put_json(
                STATE_NS, incident_id, self.incidents[incident_id].model_dump_json(by_alias=True)
            )
        self._dirty.difference_update(saved)

    async def _save_position(self) -> None:
        """The incidents first, then the position that covers them. Done at most every
        SAVE_EVERY_S, not per batch: a hundred panels' repeated alarms would otherwise
        serialize their incidents many times a second; after a crash the records since the
        last save are simply applied again (every change is guarded by its seq or state, so
        one applied twice changes nothing).

        :data:`SAVE_SLICE` incidents at a time, each slice committed to the state DB (one
        small transaction) before the next, with the event loop turning in between: the
        position is put only once every incident it covers is on disk, so a crash between
        slices leaves incidents newer than the position, never older. The judging task is
        this one, so the position cannot move meanwhile; an incident that another task
        changes (an operator's ack) and saves itself is no longer dirty here and is skipped,
        and one pruned meanwhile is gone."""
        position = self.applied_seq
        dirty = [i for i in self._dirty if i not in self._unwritten]
        for start in range(0, len(dirty), SAVE_SLICE):
            self._save(dirty[start : start + SAVE_SLICE])
            try:
                await self._state.durable()
            except sqlite3.Error as exc:  # the state DB keeps them and tries again by itself
                log.warning("incidents not saved; the position stays behind", error=str(exc))
                self._saved_at = self._clock.monotonic()
                return
        self._state.put(POSITION_NS, POSITION_KEY, position)
        self._saved_at = self._clock.monotonic()
        if self._saved_at - self._pruned_at >= PRUNE_EVERY_S:
            self.prune_closed()

    def prune_closed(self) -> int:
        """Forget the closed incidents :func:`closed_to_forget` picks, from memory and state."""
        self._pruned_at = self._clock.monotonic()
        gone = closed_to_forget(
            self.incidents.values(),
            self._clock.now(),
            self.config.keep_closed_days,
            self.config.keep_closed_max,
        )
        for incident in gone:
            del self.incidents[incident.id]
            self._dirty.discard(incident.id)
            self._state.delete(STATE_NS, incident.id)
        if gone:
            self.counters.pruned += len(gone)
            log.info("closed incidents no longer listed", count=len(gone))
        return len(gone)

    async def _on_alarm(self, record: JournalRecord) -> None:
        async with self._lock:
            open_id = self._open_by_key.get((record.source, record.kind))
            if open_id is not None:
                if join(self.incidents[open_id], record.id, record.seq):
                    self.counters.joined += 1
                    self._applied(self.incidents[open_id], timers=False)
                return
            event = record.model
            cls = self._class_of(record.kind)
            if not isinstance(event, Event) or cls is None or event.plugin in _DERIVED:
                return
            if event.id in self._opened_for:
                return  # kept until the position passes it: the batch may be judged again
            if cls.armed_only and await self._disarmed(event, record.seq):
                self.counters.not_opened_disarmed += 1
                log.info("alarm in a disarmed area: no incident", alarm=event.id, kind=event.kind)
                return
            self._open_soon(event, cls)

    async def _disarmed(self, event: Event, seq: int) -> bool:
        if self._areas_caught_up is not None:
            await self._areas_caught_up(seq - 1)  # an arming just before the alarm counts
        area = self._area_of(event.source, event.area)
        return area is not None and area.arming is ArmingState.DISARMED

    async def _on_restore(self, record: JournalRecord) -> None:
        async with self._lock:
            open_id = self._open_by_key.get((record.source, record.kind))
            if open_id is None:
                return
            incident = self.incidents[open_id]
            if record.seq <= incident.seen_seq or incident.restored_at is not None:
                return
            trigger = record.model
            when = trigger.occurred_at if isinstance(trigger, Event) else self._clock.now()
            await self._journal_change(
                incident,
                "incident.restored",
                {"trigger": record.id, "trigger_seq": record.seq},
                occurred_at=when,
            )
            self.counters.restored += 1

    # -- opening ---------------------------------------------------------------------------------

    def _classify(self, kind: str) -> IncidentClass | None:
        if not self.config.enabled:
            return None
        for cls in self.config.classes:
            if any(kind_matches(k, kind) for k in cls.kinds):
                return cls
        return None

    async def _open(
        self,
        trigger: Event,
        cls: IncidentClass,
        *,
        opened_by: str,
        note: str | None = None,
    ) -> Incident:
        """Open an incident and return it once its record is durable (a rule's request,
        answered with the incident)."""
        event = self._opening(trigger, cls, opened_by=opened_by, note=note)
        await self._journal.append(event)
        incident = self._opened(event)
        self._save()
        return incident

    def _open_soon(self, trigger: Event, cls: IncidentClass) -> None:
        """Open an incident for an alarm without waiting for its record: the next alarms of
        the batch join it at once, and :meth:`_settle_opens` waits for all the batch's records
        together. Waiting for each in turn made an alarm storm (a hundred panels' zones at
        once) one commit per incident, while the tracker fell seconds behind."""
        event = self._opening(trigger, cls, opened_by="alarm")
        written = self._journal.submit(event)
        written.add_done_callback(_retrieved)
        self._unwritten[self._opened(event).id] = (written, trigger.id)

    async def _settle_opens(self) -> None:
        """Wait for the batch's ``incident.opened`` records. An incident whose record failed
        is forgotten again and the error raised: the tracker resumes before the batch and
        judges its alarms anew, as if the incident had never opened."""
        unwritten = self._unwritten
        # not cancelled with us: the records are written either way
        await asyncio.wait([written for written, _ in unwritten.values()])
        self._unwritten = {}
        failed = [i for i, (written, _) in unwritten.items() if written.exception() is not None]
        for incident_id in failed:
            self._forget(incident_id)
        self._save()
        if failed:
            # judged again from before the batch: the incidents that were written stand
            for incident_id, (_, alarm_id) in unwritten.items():
                if incident_id not in failed:
                    self._opened_for.add(alarm_id)
            self._opened_for_upto = max(self._opened_for_upto, self._journal.committed_seq)
            error = unwritten[failed[0]][0].exception()
            assert error is not None
            raise error

    async def _opening_written(self, incident_id: str) -> None:
        """Wait until an incident opened in the batch at hand is on record, so that no change is
        journaled for an incident whose opening is not (raises the write's error if it failed:
        the incident is then forgotten)."""
        pending = self._unwritten.get(incident_id)
        if pending is not None:
            await asyncio.shield(pending[0])

    def _forget(self, incident_id: str) -> None:
        incident = self.incidents.pop(incident_id)
        if self._open_by_key.get((incident.source, incident.kind)) == incident_id:
            del self._open_by_key[(incident.source, incident.kind)]
        self._dirty.discard(incident_id)
        self.counters.opened -= 1

    def _opening(
        self,
        trigger: Event,
        cls: IncidentClass,
        *,
        opened_by: str,
        note: str | None = None,
    ) -> Event:
        """The ``incident.opened`` record of a new incident for ``trigger``."""
        now = self._clock.now()
        due = now + timedelta(seconds=cls.ack_within_s) if cls.ack_within_s else None
        assert trigger.seq is not None
        incident = Incident(
            id=new_id(),
            incident_class=cls.name,
            grade=cls.grade,
            plan=cls.plan,
            title=trigger.text or f"{cls.name}: {trigger.kind} at {trigger.source}",
            source=trigger.source,
            kind=trigger.kind,
            area=trigger.area,
            zone=trigger.zone,
            opened_at=now,
            opened_by=opened_by,
            triggers=[trigger.id],
            seen_seq=trigger.seq,
            ack_due_at=due,
            next_escalation_at=due,
            police=PoliceReport(required=cls.police),
        )
        data: dict[str, Any] = {"incident": incident.public(), "trigger": trigger.id}
        if note:
            data["note"] = note
        event = self._event(incident, "incident.opened", data, priority=cls.grade)
        return event.model_copy(update={"text": f"incident opened: {incident.title}"[:1000]})

    def _opened(self, event: Event) -> Incident:
        """Apply an ``incident.opened`` record this tracker made."""
        incident = apply(self.incidents, event)
        assert incident is not None
        self._applied(incident)
        self.counters.opened += 1
        return incident

    # -- escalation ------------------------------------------------------------------------------

    async def _escalate_forever(self) -> None:
        while True:
            try:
                await self._wait_for_next_escalation()
                await self.escalate_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("incident escalation failed; retrying")
                await self._clock.sleep(RETRY_S)

    async def _wait_for_next_escalation(self) -> None:
        self._timers_changed.clear()
        due = self._due.earliest(self.incidents)
        changed = asyncio.create_task(self._timers_changed.wait(), name="incident-timers")
        waits: set[asyncio.Task[Any]] = {changed}
        if due is not None:
            delay = max(0.0, (due - self._clock.now()).total_seconds())
            waits.add(asyncio.create_task(self._clock.sleep(delay), name="incident-timer"))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
            # a stop() arriving here must end the loop: never swallow our own cancellation
            await asyncio.gather(*waits, return_exceptions=True)

    async def escalate_due(self) -> list[Incident]:
        """Escalate every unacknowledged incident whose time has come (once each)."""
        now = self._clock.now()
        done: list[Incident] = []
        async with self._lock:
            due_now = self._due.pop_due(self.incidents, now)
            for index, incident in enumerate(due_now):
                try:
                    await self._escalate(incident, now)
                except BaseException:
                    for left in due_now[index:]:  # tried again on the loop's next round
                        self._due.push(left)
                    raise
                done.append(incident)
        return done

    async def _escalate(self, incident: Incident, now: datetime) -> None:
        step = next_escalation(incident, self.config.get(incident.incident_class), now)
        requests = [self._event_for_request(incident, notice) for notice in step.notices]
        data = {
            "n": step.n,
            "next_at": step.next_at.isoformat() if step.next_at else None,
            "notified": step.channels,
            "overdue_s": step.overdue_s,
        }
        escalated = self._event(incident, "incident.escalated", data)
        escalated = escalated.model_copy(
            update={"text": f"not acknowledged (escalation {step.n}): {incident.title}"[:1000]}
        )
        await self._opening_written(incident.id)
        # the requests first: a crash between the two repeats a notice rather than loses one
        await self._journal.append_many([*requests, escalated])
        self._applied(apply(self.incidents, escalated))
        self._save()
        self.counters.escalated += 1
        log.warning("incident escalated", incident=incident.id, n=step.n, notified=step.channels)

    def _event_for_request(self, incident: Incident, request: NotifyRequest) -> Event:
        return request_event(
            request,
            source=incident.source,
            area=incident.area,
            zone=incident.zone,
            priority=incident.grade,
            plugin=INCIDENTS_PLUGIN,
            now=self._clock.now(),
        )

    # -- what operators and rules do -------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        incident = self.incidents.get(incident_id)
        if incident is None:
            raise IncidentError(
                f"no incident {incident_id!r} (closed incidents are listed for "
                f"{self.config.keep_closed_days:g} days; the journal keeps their incident.* "
                "events)",
                not_found=True,
            )
        return incident

    async def acknowledge(self, incident_id: str, user: str, note: str | None = None) -> Incident:
        async with self._lock:
            incident = self.get(incident_id)
            if incident.state is not IncidentState.NEW:
                raise IncidentError(f"incident {incident_id} is already {incident.state.value}")
            await self._journal_change(incident, "incident.acknowledged", _noted(note), user=user)
            return incident

    async def close(
        self, incident_id: str, user: str, disposition: str | None = None, note: str | None = None
    ) -> Incident:
        async with self._lock:
            incident = self.get(incident_id)
            if incident.state is IncidentState.CLOSED:
                raise IncidentError(f"incident {incident_id} is already closed")
            if incident.police.required and incident.police.receipt_at is None:
                raise IncidentError(
                    f"incident {incident_id} was reported to the police: record the police "
                    "receipt (POST …/police-receipt) before closing it"
                )
            data = _noted(note)
            if disposition:
                data["disposition"] = disposition
            await self._journal_change(incident, "incident.closed", data, user=user)
            return incident

    async def add_note(self, incident_id: str, user: str, text: str) -> Incident:
        async with self._lock:
            incident = self.get(incident_id)
            await self._journal_change(incident, "incident.noted", _noted(text), user=user)
            return incident

    async def police_receipt(
        self, incident_id: str, user: str, reference: str, note: str | None = None
    ) -> Incident:
        async with self._lock:
            incident = self.get(incident_id)
            if incident.police.receipt_at is not None:
                raise IncidentError(f"incident {incident_id}: the police receipt is recorded")
            data = {**_noted(note), "reference": reference}
            await self._journal_change(incident, "incident.police_receipt", data, user=user)
            return incident

    async def open_for(
        self, trigger: Event, class_name: str, rule: str, note: str | None = None
    ) -> tuple[Incident, bool]:
        """A rule's ``incident`` action: the open incident for this source and kind, or a new
        one of ``class_name`` whatever the arming; True when it was opened now."""
        await self.caught_up(trigger.seq or 0)
        cls = self.config.get(class_name)
        if cls is None:
            raise IncidentError(f"no incident class {class_name!r}", not_found=True)
        async with self._lock:
            open_id = self._open_by_key.get((trigger.source, trigger.kind))
            if open_id is not None:
                incident = self.incidents[open_id]
                if note:
                    await self._journal_change(
                        incident, "incident.noted", _noted(note), user=f"rule:{rule}"
                    )
                return incident, False
            return await self._open(trigger, cls, opened_by=f"rule:{rule}", note=note), True

    async def note_for(self, trigger: Event, text: str, rule: str) -> Incident:
        """A rule's note on the open incident of its trigger's source and kind."""
        await self.caught_up(trigger.seq or 0)
        async with self._lock:
            open_id = self._open_by_key.get((trigger.source, trigger.kind))
            if open_id is None:
                raise IncidentError(
                    f"no open incident for {trigger.kind} at {trigger.source}", not_found=True
                )
            incident = self.incidents[open_id]
            await self._journal_change(
                incident, "incident.noted", _noted(text), user=f"rule:{rule}"
            )
            return incident

    def open_incident_of(self, source: str, kind: str) -> str | None:
        """The id of the open incident for this source and kind, if there is one."""
        return self._open_by_key.get((source, kind))

    async def caught_up(self, seq: int) -> None:
        """Wait until every record up to ``seq`` has been judged."""
        await self._progress.reached(seq)

    @property
    def applied_seq(self) -> int:
        """Every record up to this seq has been judged."""
        return self._progress.seq

    # -- journaling a change ---------------------------------------------------------------------

    async def _journal_change(
        self,
        incident: Incident,
        kind: str,
        data: dict[str, Any],
        *,
        user: str | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        await self._opening_written(incident.id)
        event = self._event(incident, kind, data, user=user, occurred_at=occurred_at)
        seq = await self._journal.append(event)
        self._applied(apply(self.incidents, event.model_copy(update={"seq": seq})))
        self._save()

    def _event(
        self,
        incident: Incident,
        kind: str,
        data: dict[str, Any],
        *,
        priority: int | None = None,
        user: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        now = self._clock.now()
        body = data if kind == "incident.opened" else {"incident": incident.id, **data}
        return Event(
            kind=kind,
            phase=Phase.MOMENTARY,
            priority=priority or CORE_PRIORITY[kind],
            source=incident.source,
            area=incident.area,
            zone=incident.zone,
            user=user,
            occurred_at=occurred_at or now,
            received_at=now,
            plugin=INCIDENTS_PLUGIN,
            data={**body, "class": incident.incident_class, "grade": incident.grade},
        )

    def listing(
        self, state: str | None = None, incident_class: str | None = None, limit: int = 100
    ) -> list[Incident]:
        """Newest first; ``state`` is a state name or ``open`` (new or acknowledged)."""
        chosen = [
            i
            for i in self.incidents.values()
            if (state is None or i.state.value == state or (state == "open" and i.is_open))
            and (incident_class is None or i.incident_class == incident_class)
        ]
        chosen.sort(key=lambda i: i.opened_at, reverse=True)
        return chosen[:limit]


def _retrieved(written: asyncio.Future[int]) -> None:
    """Mark a record write's failure as seen (it is handled where it is awaited, or lost with a
    stop that came first; either way not an "exception never retrieved" at exit)."""
    if not written.cancelled():
        written.exception()


def _noted(note: str | None) -> dict[str, Any]:
    return {"note": note} if note else {}
