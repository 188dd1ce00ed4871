"""The dry run: which rules an event would trigger, why the others would not, what would be sent.

It judges with the same compiled rules as the engine, but sends nothing and journals nothing.
It sees one event alone, so a correlation needing several events is reported as not met, and
run modes, debounce and cooldown (which depend on earlier triggers) are not applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from gateway.model.event import Event
from gateway.model.kinds import KindError, KindRegistry
from gateway.rules.actions import render, render_params, template_values
from gateway.rules.compiled import CompiledRule, event_scope
from gateway.rules.facts import Facts
from gateway.rules.model import Action, Rule


@dataclass
class RuleVerdict:
    name: str
    reason: str | None
    """None when the rule would run."""
    plan: list[str] = field(default_factory=list)
    """What the run would do, one line per step."""


def dry_run(
    rules: list[Rule],
    event: Event,
    at: datetime,
    facts: Facts,
    kinds: KindRegistry,
    site_zone: str,
) -> list[RuleVerdict]:
    """One verdict per rule, in config order."""
    event = event.model_copy(update={"received_at": at})
    scope = event_scope(event)
    values = template_values(event, facts)
    verdicts: list[RuleVerdict] = []
    for rule in rules:
        if not rule.enabled:
            verdicts.append(RuleVerdict(rule.name, "disabled"))
            continue
        compiled = CompiledRule(rule, site_zone)
        reason = compiled.check_when(event, scope, facts)
        if reason is not None:
            verdicts.append(RuleVerdict(rule.name, f"when: {reason}"))
            continue
        compiled.observe(event, facts)
        judgement = compiled.check_conditions(event, scope, facts, at)
        if judgement.reason is not None:
            verdicts.append(RuleVerdict(rule.name, judgement.reason))
            continue
        plan: list[str] = []
        if judgement.wait_restore_s is not None:
            plan.append(
                f"wait {judgement.wait_restore_s:g} s; go on only if {event.kind} from "
                f"{event.source} is not restored by then"
            )
        plan.extend(_plan(rule.then, values, event, kinds, ""))
        verdicts.append(RuleVerdict(rule.name, None, plan))
    return verdicts


def _plan(
    actions: list[Action], values: dict[str, str], event: Event, kinds: KindRegistry, indent: str
) -> list[str]:
    lines: list[str] = []
    for action in actions:
        if action.command is not None:
            c = action.command
            params = render_params(c.params, values)
            shown = f" {json.dumps(params, ensure_ascii=False)}" if params else ""
            lines.append(f"{indent}send {c.action} to {render(c.target, values)}{shown}")
        elif action.event is not None:
            e = action.event
            source = render(e.source, values) if e.source else event.source
            problem = ""
            try:
                kinds.check(e.kind, e.phase)
            except KindError as exc:
                problem = f"  (would fail: {exc})"
            lines.append(f"{indent}journal event {e.kind} ({e.phase.value}) from {source}{problem}")
        elif action.incident is not None:
            i = action.incident
            note = f" with the note {render(i.note, values)!r}" if i.note else ""
            if i.incident_class is not None:
                lines.append(
                    f"{indent}open a {i.incident_class} incident for the trigger (or join the "
                    f"open one of its source and kind){note}"
                )
            else:
                lines.append(f"{indent}note on the trigger's open incident{note}")
        elif action.notify is not None:
            n = action.notify
            to = f" to {', '.join(n.to)}" if n.to else ""
            lines.append(f"{indent}notify through {n.channel}{to}: {render(n.subject, values)!r}")
        elif action.wait is not None:
            lines.append(f"{indent}wait {action.wait:g} s")
        elif action.parallel is not None:
            lines.append(f"{indent}at the same time:")
            lines.extend(_plan(action.parallel, values, event, kinds, indent + "  "))
        elif action.sequence is not None:
            lines.append(f"{indent}in order:")
            lines.extend(_plan(action.sequence, values, event, kinds, indent + "  "))
    return lines


def render_verdicts(verdicts: list[RuleVerdict], event: Event, when: str) -> str:
    """The dry run as text: the matching rules with their plan, then the others with reasons."""
    lines = [f"event {event.kind} ({event.phase.value}) from {event.source} at {when}", ""]
    matched = [v for v in verdicts if v.reason is None]
    others = [v for v in verdicts if v.reason is not None]
    lines.append(f"{len(matched)} rule(s) match:" if matched else "no rule matches")
    for verdict in matched:
        lines.append(f"  {verdict.name}")
        lines.extend(f"    {step}" for step in verdict.plan)
    if others:
        lines.append("")
        lines.append("not matching:")
        lines.extend(f"  {v.name}: {v.reason}" for v in others)
    return "\n".join(lines)
