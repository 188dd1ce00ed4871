"""The linkage engine: follows the journal through its own durable cursor and runs rules.

Exactly-once linkage across restarts rests on two things. The cursor is committed only up to the
oldest trigger whose run is not yet journaled, so a crash leaves every unfinished trigger to be
read again. And each run is journaled as a ``rules.run`` event naming its rule and triggering
event, so on start the engine collects the runs already recorded after the cursor and does not
repeat them. A run cut short by shutdown is not journaled; it runs again after the restart.

Debounce, cooldown and correlation are measured on the events' ``received_at``, so a replay
judges the events exactly as the live run did.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from gateway.journal import Consumer, Filter, Journal, JournalRecord
from gateway.model.event import Event
from gateway.model.kinds import ONE_OFF, KindRegistry, KindSpec, Phase
from gateway.rules.actions import RULES_PLUGIN, Dispatch, RunContext, run_action, template_values
from gateway.rules.compiled import CompiledRule, Judgement, event_scope
from gateway.rules.facts import Facts
from gateway.rules.index import KindIndex
from gateway.rules.model import Rule, RunMode
from gateway.sdk.clock import Clock

if TYPE_CHECKING:
    from gateway.incidents.tracker import IncidentTracker

log = structlog.get_logger("anfang.rules")

CURSOR = "rules"
RUN_KIND = "rules.run"
RUN_SPEC = KindSpec(
    RUN_KIND,
    "A linkage rule ran: rule, triggering event, each action and its result",
    4,
    ONE_OFF,
)
RETRY_S = 1.0
RECORDS_WAIT_S = 10.0
"""How long stopping waits for run records already handed to the journal to be durable."""


def register_kinds(kinds: KindRegistry) -> None:
    """Make ``rules.run`` (and so the run records) known; registering twice is harmless."""
    if RUN_KIND not in kinds:
        kinds.register("rules", RUN_SPEC)


@dataclass
class _RuleState:
    compiled: CompiledRule
    last_trigger: float | None = None
    last_run: float | None = None
    active: set[asyncio.Task[None]] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RuleEngine:
    def __init__(
        self,
        rules: list[Rule],
        *,
        journal: Journal,
        facts: Facts,
        dispatch: Dispatch,
        clock: Clock,
        kinds: KindRegistry,
        site_zone: str,
        areas_caught_up: Callable[[int], Awaitable[None]] | None = None,
        incidents: IncidentTracker | None = None,
    ) -> None:
        self._journal = journal
        self._facts = facts
        self._dispatch = dispatch
        self._clock = clock
        self._kinds = kinds
        self._areas_caught_up = areas_caught_up
        self._incidents = incidents
        register_kinds(kinds)
        compiled = [CompiledRule(r, site_zone) for r in rules]
        self.index = KindIndex(compiled)
        self._states = {c.name: _RuleState(c) for c in self.index.rules}
        self._inflight: OrderedDict[int, int] = OrderedDict()
        """Run number → trigger seq. Runs start in journal order, so the oldest unfinished
        trigger is always the first entry (O(1), where ``min()`` over hundreds of runs in
        flight was a visible share of the engine's time)."""
        self._numbers = itertools.count()
        self._records: dict[int, asyncio.Future[int]] = {}
        """Run number → the write of its ``rules.run`` record, until that write is over."""
        self._running: set[tuple[str, str]] = set()
        """(rule, trigger id) of every run not over: a resumed follow must not start them again."""
        self._done: set[tuple[str, str]] = set()  # (rule, trigger id) journaled before start
        self._replay_upto = 0
        self._processed = 0
        self._judging = False
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.runs_started = 0
        self.dropped: dict[str, int] = {}
        """Triggers not run, by reason (busy, debounce, cooldown): for metrics and tests."""

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rule-engine")

    async def stop(self) -> None:
        self._stopping = True
        runs = [t for s in self._states.values() for t in s.active]
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._records_written()

    async def _records_written(self) -> None:
        """Wait for run records handed to the journal: an engine started next (a reload) reads
        them and does not run those triggers again."""
        pending = [w for w in self._records.values() if not w.done()]
        if pending:
            await asyncio.wait(pending, timeout=RECORDS_WAIT_S)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rule engine failed; resuming", position=self._processed)
                await asyncio.sleep(RETRY_S)

    async def _follow(self) -> None:
        consumer = self._journal.subscribe(
            Filter.build(types=["event"]), cursor=CURSOR, new_cursor_start="head"
        )
        self._consumer = consumer
        self._processed = consumer.position
        try:
            self._recall(consumer.position)
            while True:
                batch = await consumer.next_batch()
                if not batch and consumer.position <= self._processed:
                    if self._journal.closed:
                        return
                    continue
                self._judging = True
                try:
                    for record in batch:
                        await self._on_record(record)
                        self._processed = record.seq
                finally:
                    self._judging = False
                self._processed = max(self._processed, consumer.position)
                self._commit()
        finally:
            consumer.close()
            self._consumer = None

    def _recall(self, position: int) -> None:
        """Runs already journaled for triggers after ``position``; warm the correlation windows
        and debounce times with the events just before it."""
        reader = self._journal.reader
        head = self._journal.committed_seq
        self._replay_upto = head
        for record in reader.scan_all(
            Filter.build(kinds=[RUN_KIND]), after_seq=position, upto_seq=head
        ):
            content = record.content
            if isinstance(content, Event) and content.plugin == RULES_PLUGIN:
                trigger = content.data.get("trigger", {})
                rule = content.data.get("rule")
                if isinstance(trigger, dict) and isinstance(rule, str):
                    self._done.add((rule, str(trigger.get("id"))))
        horizon = (
            max(
                [w.spec.within_s for s in self._states.values() for w in s.compiled.correlation]
                + [s.compiled.rule.debounce_s for s in self._states.values()]
                + [s.compiled.rule.cooldown_s for s in self._states.values()]
            )
            if self._states
            else 0.0
        )
        last = reader.get(position) if position else None
        if horizon <= 0 or last is None:
            return
        since_us = last.ts_us - int(horizon * 1_000_000)
        for record in reader.query(
            Filter.build(types=["event"]), upto_seq=position, since_us=since_us, limit=100_000
        ):
            content = record.content
            if isinstance(content, Event) and record.kind != RUN_KIND:
                self._warm(content)
            elif isinstance(content, Event):  # a run record: its rule's cooldown starts there
                state = self._states.get(str(content.data.get("rule")))
                if state is not None:
                    started = content.data.get("trigger_at")
                    if isinstance(started, int | float):
                        state.last_run = float(started)

    def _warm(self, event: Event) -> None:
        scope = event_scope(event)
        for rule in self.index.candidates(event.kind):
            if rule.admits(event, scope, self._facts):
                rule.observe(event, self._facts)
                self._states[rule.name].last_trigger = event.received_at.timestamp()

    # -- judging -------------------------------------------------------------------------------

    async def _on_record(self, record: JournalRecord) -> None:
        if record.kind == RUN_KIND:
            return
        candidates = self.index.candidates(record.kind)
        if not candidates:
            return
        content = record.model
        if not isinstance(content, Event):
            return
        event = content
        scope = event_scope(event)
        waited = False
        for rule in self.index.narrowed(record.kind, scope):
            if event.plugin == RULES_PLUGIN and event.data.get("rule") == rule.name:
                continue  # a rule is never triggered by its own derived event
            if rule.needs_areas and not waited and self._areas_caught_up is not None:
                await self._areas_caught_up(record.seq - 1)
                waited = True
            if rule.admits(event, scope, self._facts):
                self._consider(rule, event, scope)

    def _consider(self, rule: CompiledRule, event: Event, scope: dict[str, Any]) -> None:
        state = self._states[rule.name]
        at = event.received_at.timestamp()
        rule.observe(event, self._facts)
        previous, state.last_trigger = state.last_trigger, at
        assert event.seq is not None
        key = (rule.name, event.id)
        if event.seq <= self._replay_upto and (key in self._done or key in self._running):
            state.last_run = at  # already ran before the restart
            return
        spec = rule.rule
        if spec.debounce_s and previous is not None and at - previous < spec.debounce_s:
            self._drop(rule.name, "debounce")
            return
        if spec.cooldown_s and state.last_run is not None and at - state.last_run < spec.cooldown_s:
            self._drop(rule.name, "cooldown")
            return
        judgement = rule.check_conditions(event, scope, self._facts, event.received_at)
        if judgement.reason is not None:
            log.debug("rule not run", rule=rule.name, trigger=event.id, reason=judgement.reason)
            return
        if not self._admit(state):
            return
        state.last_run = at
        self._launch(state, event, judgement)

    def _admit(self, state: _RuleState) -> bool:
        mode, busy = state.compiled.rule.mode, len(state.active)
        if mode is RunMode.SINGLE and busy:
            self._drop(state.compiled.name, "busy")
            return False
        if mode is RunMode.RESTART:
            for task in state.active:
                task.cancel()
            return True
        if busy >= state.compiled.rule.max_runs:
            self._drop(state.compiled.name, "max_runs")
            return False
        return True

    def _drop(self, rule: str, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        log.info("rule trigger dropped", rule=rule, reason=reason)

    # -- running -------------------------------------------------------------------------------

    def _launch(self, state: _RuleState, event: Event, judgement: Judgement) -> None:
        number = next(self._numbers)
        assert event.seq is not None
        self._inflight[number] = event.seq
        key = (state.compiled.name, event.id)
        self._running.add(key)
        self.runs_started += 1
        task = asyncio.create_task(
            self._run_rule(state, event, judgement, number), name=f"rule-{state.compiled.name}"
        )
        state.active.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            state.active.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("rule run failed", rule=key[0], error=repr(t.exception()))
            written = self._records.get(number)
            if written is None or written.done():
                self._run_over(number, key)
            else:
                written.add_done_callback(lambda _: self._run_over(number, key))

        task.add_done_callback(finished)

    def _run_over(self, number: int, key: tuple[str, str]) -> None:
        """A run is over once its actions are and its record is durable (or failed to be):
        only then may the cursor pass its trigger."""
        written = self._records.pop(number, None)
        if written is not None and not written.cancelled() and written.exception() is not None:
            log.error("rule run not journaled", rule=key[0], error=repr(written.exception()))
        self._inflight.pop(number, None)
        self._running.discard(key)
        if not self._stopping:
            self._commit()

    async def _run_rule(
        self, state: _RuleState, event: Event, judgement: Judgement, number: int
    ) -> None:
        if state.compiled.rule.mode is RunMode.QUEUED:
            async with state.lock:
                await self._execute(state.compiled, event, judgement, number)
        else:
            await self._execute(state.compiled, event, judgement, number)

    async def _execute(
        self, rule: CompiledRule, event: Event, judgement: Judgement, number: int
    ) -> None:
        """Carry out the run and hand its record to the journal without waiting: the run is
        over for its mode (single, queued …) once its actions are, and the cursor passes its
        trigger only once the record is durable (see ``_launch``)."""
        started = self._clock.now()
        ctx = RunContext(
            rule.name,
            event,
            template_values(event, self._facts),
            self._dispatch,
            self._journal.append,
            self._clock,
            self._kinds,
            self._incidents,
        )
        entries: list[dict[str, Any]] = []
        status, reason = "ok", None
        try:
            if judgement.wait_restore_s is not None:
                elapsed = (started - event.received_at).total_seconds()
                if judgement.wait_restore_s > elapsed:
                    await self._clock.sleep(judgement.wait_restore_s - elapsed)
                if self._restored(event):
                    status = "skipped"
                    reason = f"restored within {judgement.wait_restore_s:g} s"
            if status == "ok":
                for action in rule.rule.then:
                    entries.append(await run_action(action, ctx))
                if any(e.get("status") != "ok" for e in entries):
                    status = "failed"
        except asyncio.CancelledError:
            if not self._stopping:  # replaced by a newer trigger (mode restart): on record
                record = self._record(rule, event, "cancelled", "restarted", entries, started)
                self._records[number] = self._journal.submit(record)
            raise
        record = self._record(rule, event, status, reason, entries, started)
        self._records[number] = self._journal.submit(record)

    def _restored(self, event: Event) -> bool:
        assert event.seq is not None
        flt = Filter.build(kinds=[event.kind], sources=[event.source], phases=["restore"])
        records, _ = self._journal.reader.scan(
            flt, after_seq=event.seq, upto_seq=self._journal.committed_seq, limit=1000
        )
        return any(r.kind == event.kind for r in records)

    def _record(
        self,
        rule: CompiledRule,
        event: Event,
        status: str,
        reason: str | None,
        entries: list[dict[str, Any]],
        started: Any,
    ) -> Event:
        text = f"rule {rule.name} on {event.kind} from {event.source}: {status}"
        return Event(
            kind=RUN_KIND,
            phase=Phase.MOMENTARY,
            priority=RUN_SPEC.priority,
            source=event.source,
            area=event.area,
            zone=event.zone,
            plugin=RULES_PLUGIN,
            text=(text + (f" ({reason})" if reason else ""))[:1000],
            data={
                "rule": rule.name,
                "trigger": {
                    "id": event.id,
                    "seq": event.seq,
                    "kind": event.kind,
                    "phase": event.phase.value,
                    "source": event.source,
                },
                "trigger_at": event.received_at.timestamp(),
                "status": status,
                "reason": reason,
                "started_at": started.isoformat(),
                "finished_at": self._clock.now().isoformat(),
                "actions": entries,
            },
        )

    def _commit(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        upto = self._processed
        if self._inflight:
            upto = min(upto, next(iter(self._inflight.values())) - 1)
        consumer.commit(upto)

    @property
    def processed(self) -> int:
        """The journal position judged so far (records the filter skips count as judged)."""
        consumer = self._consumer
        if consumer is not None and not self._judging:
            return max(self._processed, consumer.position)
        return self._processed

    @property
    def active_runs(self) -> int:
        """Runs started and not over: acting, or waiting for their record to be durable."""
        return len(self._inflight)

    async def settled(self, poll_s: float = 0.005) -> None:
        """Wait until the engine has judged the whole journal and no run is active (tests,
        the dry run of a live gateway). Polls on the event loop, never on the gateway clock."""
        while True:
            if self.processed >= self._journal.committed_seq and not self.active_runs:
                return
            await asyncio.sleep(poll_s)
