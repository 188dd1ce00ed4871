"""``anfang check`` for rules: every device, area, action and kind a rule names must exist.

What exists is what the config declares (areas, pinned devices and points, plugin instances)
plus what the gateway's registry has seen (devices and points plugins reported), read from the
data directory when there is one. An action must be one the owning plugin supports; when the
owner is not known yet, one that some configured plugin supports.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from gateway.config.errors import ConfigIssue
from gateway.config.schema import GatewayConfig
from gateway.journal.filters import kind_matches
from gateway.model.entities import Device
from gateway.model.kinds import KindError, KindRegistry
from gateway.registry.areas import AREA_ACTIONS
from gateway.rules.model import Action, Rule
from gateway.sdk.notifier import NotifierPlugin

_TEMPLATE_MARK = "{"


def check_rule_references(
    gateway: GatewayConfig,
    plugin_classes: Mapping[str, Any],
    kinds: KindRegistry,
    known_devices: Mapping[str, Device] | None = None,
    known_points: frozenset[str] = frozenset(),
) -> list[ConfigIssue]:
    site = gateway.site.id
    devices = dict(known_devices or {})
    instances = {p.id: plugin_classes.get(p.plugin) for p in gateway.plugins if p.enabled}
    areas = {a.name: a for a in gateway.areas}
    addresses = {p.address for p in gateway.devices} | set(devices) | set(known_points)
    addresses |= {"/".join(a.split("/")[:2]) for a in addresses}
    addresses |= {f"{site}/{i}" for i in instances}
    offered = {a for cls in instances.values() if cls is not None for a in cls.actions}
    issues: list[ConfigIssue] = []

    def owner_actions(address: str) -> tuple[str, tuple[str, ...]] | None:
        device = devices.get("/".join(address.split("/")[:2]))
        if device is None or device.plugin not in instances:
            return None
        cls = instances[device.plugin]
        return (device.plugin, tuple(cls.actions) if cls is not None else ())

    def check_area(where: str, name: str) -> None:
        if name not in areas:
            issues.append(
                ConfigIssue(
                    where, f"unknown area {name!r} (declared: {', '.join(sorted(areas)) or 'none'})"
                )
            )

    def check_actions(where: str, actions: list[Action]) -> None:
        for j, action in enumerate(actions):
            here = f"{where}[{j}]"
            for key, group in (("parallel", action.parallel), ("sequence", action.sequence)):
                if group is not None:
                    check_actions(f"{here}.{key}", group)
            if action.event is not None:
                try:
                    kinds.check(action.event.kind, action.event.phase)
                except KindError as exc:
                    issues.append(ConfigIssue(f"{here}.event.kind", str(exc)))
            if action.command is not None:
                check_command(f"{here}.command", action.command.target, action.command.action)
            if action.incident is not None and action.incident.incident_class is not None:
                name = action.incident.incident_class
                if gateway.incidents.get(name) is None:
                    declared = ", ".join(c.name for c in gateway.incidents.classes) or "none"
                    issues.append(
                        ConfigIssue(
                            f"{here}.incident.class",
                            f"unknown incident class {name!r} (declared: {declared})",
                        )
                    )
            if action.notify is not None:
                check_channel(f"{here}.notify.channel", action.notify.channel)

    def check_channel(where: str, channel: str) -> None:
        if channel not in instances:
            notifiers = [i for i, cls in instances.items() if cls is not None and _is_notifier(cls)]
            issues.append(
                ConfigIssue(
                    where,
                    f"unknown notifier channel {channel!r}: a channel is the id of an enabled "
                    f"notifier plugin instance (configured: {', '.join(notifiers) or 'none'})",
                )
            )

    def check_command(where: str, target: str, action: str) -> None:
        if _TEMPLATE_MARK in target:
            if not target.startswith((f"{site}/", "{")):
                issues.append(ConfigIssue(f"{where}.target", f"{target!r} is not in site {site!r}"))
            if action not in offered and action not in AREA_ACTIONS:
                issues.append(ConfigIssue(f"{where}.action", _no_plugin(action, offered)))
            return
        name = target.removeprefix(f"{site}/")
        if name in areas and "/" not in name:
            if action not in AREA_ACTIONS:
                issues.append(
                    ConfigIssue(
                        f"{where}.action",
                        f"{target} is an area; areas take {', '.join(AREA_ACTIONS)}",
                    )
                )
            return
        if target not in addresses:
            issues.append(
                ConfigIssue(
                    f"{where}.target",
                    f"unknown device {target!r} (not an area, a pinned device, a plugin instance "
                    "or a device the registry has seen)",
                )
            )
            return
        owner = owner_actions(target)
        if owner is not None:
            instance, supported = owner
            if action not in supported:
                issues.append(
                    ConfigIssue(
                        f"{where}.action",
                        f"{target} belongs to plugin instance {instance}, which does not support "
                        f"{action} (it supports: {', '.join(supported) or 'none'})",
                    )
                )
            device = devices.get(target)
            if device is not None and device.capabilities and action not in device.capabilities:
                issues.append(
                    ConfigIssue(
                        f"{where}.action",
                        f"{target} does not support {action} "
                        f"(it supports: {', '.join(device.capabilities)})",
                    )
                )
        elif action not in offered:
            issues.append(ConfigIssue(f"{where}.action", _no_plugin(action, offered)))

    for i, rule in enumerate(gateway.rules):
        _check_kinds(i, rule, kinds, issues)
        _check_rule(i, rule, check_area, addresses, issues)
        check_actions(f"rules[{i}].then", rule.then)
    for i, cls in enumerate(gateway.incidents.classes):
        for j, target in enumerate(cls.escalation.notify):
            check_channel(f"incidents.classes[{i}].escalation.notify[{j}].channel", target.channel)
    return issues


def _is_notifier(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, NotifierPlugin)


def _check_kinds(i: int, rule: Rule, kinds: KindRegistry, issues: list[ConfigIssue]) -> None:
    """A kind pattern no kind matches, or phases none of its kinds take: a rule that can never
    fire, a siren that never sounds. The kinds are the core table's and every installed
    plugin's (an event of any other kind is refused when it is published)."""
    names = [spec.name for spec in kinds]
    phases = {phase.value for phase in rule.when.phase}
    for pattern in rule.when.kind:
        matched = [spec for spec in kinds if kind_matches(pattern, spec.name)]
        if not matched:
            near = difflib.get_close_matches(pattern, names, n=3, cutoff=0.75)
            hint = f"; did you mean {' or '.join(near)}?" if near else " (see docs/event-kinds.md)"
            issues.append(
                ConfigIssue(
                    f"rules[{i}].when.kind",
                    f"no kind is {pattern!r} or under it, so the rule can never fire{hint}",
                )
            )
            continue
        taken = {phase.value for spec in matched for phase in spec.phases}
        if phases and not phases & taken:
            issues.append(
                ConfigIssue(
                    f"rules[{i}].when.phase",
                    f"{pattern!r} events never have phase {' or '.join(sorted(phases))} "
                    f"(they take: {', '.join(sorted(taken))}), so the rule can never fire",
                )
            )


def _check_rule(
    i: int, rule: Rule, check_area: Any, addresses: set[str], issues: list[ConfigIssue]
) -> None:
    for name in rule.when.area:
        check_area(f"rules[{i}].when.area", name)
    for k, cond in enumerate(rule.if_):
        for key in ("armed", "disarmed"):
            ref = getattr(cond, key)
            if isinstance(ref, list):
                for name in ref:
                    check_area(f"rules[{i}].if[{k}].{key}", name)
        if cond.device is not None and cond.device.address not in addresses:
            issues.append(
                ConfigIssue(
                    f"rules[{i}].if[{k}].device.address",
                    f"unknown device {cond.device.address!r}",
                )
            )


def _no_plugin(action: str, offered: set[str]) -> str:
    return (
        f"no configured plugin supports {action} "
        f"(they support: {', '.join(sorted(offered)) or 'nothing'})"
    )
