"""Carrying out a rule's ``then``: commands, derived events, waits, parallel and sequential groups.

Each action leaves an entry (what was done and what became of it) for the run's journal record.
A failed action does not stop the run: a siren that does not answer must not keep the lights off.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.model.command import DEFAULT_DEADLINE_S, Command, CommandResult, ResultStatus
from gateway.model.event import Event
from gateway.model.kinds import KindError, KindRegistry
from gateway.model.notify import NotifyRequest, request_event
from gateway.rules.facts import Facts
from gateway.rules.model import Action, CommandAction, EventAction, IncidentAction, NotifyAction
from gateway.sdk.clock import Clock

if TYPE_CHECKING:
    from gateway.incidents.tracker import IncidentTracker

Dispatch = Callable[[Command], Awaitable[CommandResult]]
Append = Callable[[Event], Awaitable[int]]
RULES_PLUGIN = "rules"
"""The ``plugin`` of events a rule derives; the engine never lets a rule trigger itself."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def template_values(event: Event, facts: Facts) -> dict[str, str]:
    """What ``{area}``, ``{device}`` … in targets and texts stand for, for this trigger."""
    area = facts.area_of(event.source, event.area)
    return {
        "site": facts.site,
        "source": event.source,
        "device": "/".join(event.source.split("/")[:2]),
        "area": area.address if area is not None else f"{facts.site}/{event.area or 'none'}",
        "zone": event.zone or "",
        "kind": event.kind,
        "id": event.id,
    }


def render(text: str, values: dict[str, str]) -> str:
    if "{" not in text:  # most targets name their device outright
        return text
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render_params(params: Any, values: dict[str, str]) -> Any:
    if isinstance(params, str):
        return render(params, values)
    if isinstance(params, dict):
        return {k: render_params(v, values) for k, v in params.items()}
    if isinstance(params, list):
        return [render_params(v, values) for v in params]
    return params


@dataclass
class RunContext:
    rule: str
    trigger: Event
    values: dict[str, str]
    dispatch: Dispatch
    append: Append
    clock: Clock
    kinds: KindRegistry
    incidents: IncidentTracker | None = None

    def command(self, spec: CommandAction) -> Command:
        # Built with its deadline: the dispatcher would otherwise copy the command to add one.
        deadline = self.clock.now() + timedelta(seconds=spec.deadline_s or DEFAULT_DEADLINE_S)
        return Command(
            target=render(spec.target, self.values),
            action=spec.action,
            params=render_params(spec.params, self.values),
            issued_by=f"rule:{self.rule}",
            reason=f"rule {self.rule} on event {self.trigger.id} ({self.trigger.kind})",
            deadline=deadline,
        )

    def event(self, spec: EventAction) -> Event:
        kind = self.kinds.check(spec.kind, spec.phase)
        source = render(spec.source, self.values) if spec.source else self.trigger.source
        now = self.clock.now()
        return Event(
            kind=spec.kind,
            phase=spec.phase,
            priority=spec.priority or kind.priority,
            source=source,
            area=self.trigger.area,
            zone=self.trigger.zone,
            occurred_at=now,
            received_at=now,
            plugin=RULES_PLUGIN,
            text=render(spec.text, self.values) if spec.text else None,
            data={**spec.data, "rule": self.rule, "trigger": self.trigger.id},
        )


async def run_actions(actions: list[Action], ctx: RunContext) -> list[dict[str, Any]]:
    """Carry out ``actions`` in order; one entry per action, in the same order."""
    return [await run_action(action, ctx) for action in actions]


async def run_action(action: Action, ctx: RunContext) -> dict[str, Any]:
    if action.command is not None:
        return await _command(action.command, ctx)
    if action.event is not None:
        return await _event(action.event, ctx)
    if action.incident is not None:
        return await _incident(action.incident, ctx)
    if action.notify is not None:
        return await _notify(action.notify, ctx)
    if action.wait is not None:
        if action.wait > 0:
            await ctx.clock.sleep(action.wait)
        return {"type": "wait", "s": action.wait, "status": "ok"}
    if action.parallel is not None:
        branches = await asyncio.gather(*(run_action(a, ctx) for a in action.parallel))
        return {"type": "parallel", "status": _worst(branches), "actions": list(branches)}
    assert action.sequence is not None
    done = await run_actions(action.sequence, ctx)
    return {"type": "sequence", "status": _worst(done), "actions": done}


async def _command(spec: CommandAction, ctx: RunContext) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "command", "target": spec.target, "action": spec.action}
    try:
        command = ctx.command(spec)
    except ValidationError as exc:
        return {**entry, "status": "failed", "detail": f"bad command: {exc.errors()[0]['msg']}"}
    entry.update(target=command.target, command_id=command.id)
    try:
        result = await ctx.dispatch(command)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the journal refused the command: nothing was sent
        return {**entry, "status": ResultStatus.FAILED.value, "detail": str(exc)[:500]}
    entry.update(status=result.status.value)
    if result.detail:
        entry["detail"] = result.detail[:500]
    return entry


async def _event(spec: EventAction, ctx: RunContext) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "event", "kind": spec.kind}
    try:
        event = ctx.event(spec)
    except (KindError, ValidationError) as exc:
        return {**entry, "status": "failed", "detail": str(exc)[:500]}
    seq = await ctx.append(event)
    return {**entry, "id": event.id, "seq": seq, "source": event.source, "status": "ok"}


async def _incident(spec: IncidentAction, ctx: RunContext) -> dict[str, Any]:
    from gateway.incidents.tracker import IncidentError

    entry: dict[str, Any] = {"type": "incident"}
    if ctx.incidents is None:
        return {**entry, "status": "failed", "detail": "incidents are not running"}
    note = render(spec.note, ctx.values) if spec.note else None
    try:
        if spec.incident_class is not None:
            incident, opened = await ctx.incidents.open_for(
                ctx.trigger, spec.incident_class, ctx.rule, note
            )
            entry["opened"] = opened
        else:
            assert note is not None
            incident = await ctx.incidents.note_for(ctx.trigger, note, ctx.rule)
            entry["noted"] = True
    except IncidentError as exc:
        return {**entry, "status": "failed", "detail": str(exc)[:500]}
    return {**entry, "incident": incident.id, "status": "ok"}


async def _notify(spec: NotifyAction, ctx: RunContext) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "notify", "channel": spec.channel}
    incident = None
    if ctx.incidents is not None:
        incident = ctx.incidents.open_incident_of(ctx.trigger.source, ctx.trigger.kind)
    try:
        request = NotifyRequest(
            channel=spec.channel,
            to=spec.to,
            subject=render(spec.subject, ctx.values)[:500],
            body=render(spec.body, ctx.values)[:20_000],
            rule=ctx.rule,
            incident=incident,
        )
    except ValidationError as exc:
        return {
            **entry,
            "status": "failed",
            "detail": f"bad notification: {exc.errors()[0]['msg']}",
        }
    event = request_event(
        request,
        source=ctx.trigger.source,
        area=ctx.trigger.area,
        zone=ctx.trigger.zone,
        priority=ctx.trigger.priority,
        plugin=RULES_PLUGIN,
        now=ctx.clock.now(),
    )
    seq = await ctx.append(event)
    return {**entry, "id": event.id, "seq": seq, "status": "ok"}


def _worst(entries: list[dict[str, Any]]) -> str:
    return "ok" if all(e.get("status") == "ok" for e in entries) else "failed"


def run_status(entries: list[dict[str, Any]]) -> str:
    return _worst(entries)
