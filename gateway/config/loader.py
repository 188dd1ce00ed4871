"""Loading ``anfang.yaml``: YAML, ``${ENV}`` substitution, schema, plugin configs, cross-checks.

Every problem found is collected (not just the first) so ``anfang check`` can list them all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from gateway.config.errors import ConfigError, ConfigIssue, issues_from_validation, key_path
from gateway.config.schema import GatewayConfig
from gateway.rules.model import Rule

_RULES = TypeAdapter(list[Rule])
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class LoadedConfig:
    """The validated gateway config plus each instance's validated plugin config (disabled
    instances' too: a config is checked whole, so enabling one later cannot surprise)."""

    gateway: GatewayConfig
    source: str
    plugin_configs: dict[str, BaseModel] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    """Values substituted from the environment; never to be logged."""
    path: Path | None = None
    """The file it was read from; None for the packaged demo. A reload reads this again, and
    never falls back to the demo when it has gone (that would stop a site's real plugins)."""


def _substitute_env(
    node: Any, path: tuple[int | str, ...], issues: list[ConfigIssue], secrets: set[str]
) -> Any:
    if isinstance(node, dict):
        return {k: _substitute_env(v, (*path, str(k)), issues, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute_env(v, (*path, i), issues, secrets) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:

        def replace(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            value = os.environ.get(name, default)
            if value is None:
                issues.append(
                    ConfigIssue(key_path(path), f"environment variable {name} is not set")
                )
                return ""
            if value:
                secrets.add(value)
            return value

        return _ENV.sub(replace, node)
    return node


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [ConfigIssue("", f"{where}not valid YAML: {problem}")]) from None


def load_config(
    path: Path | None,
    plugin_classes: Mapping[str, Any],
) -> LoadedConfig:
    """Load and validate a config file (the packaged demo config when ``path`` is None).

    ``plugin_classes`` maps installed plugin names to their classes (each with a ``Config``
    model). Raises ConfigError listing every problem with its key path.
    """
    if path is None:
        source = "demo config (packaged)"
        text = resources.files("gateway").joinpath("demo.yaml").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(source, [ConfigIssue("", f"cannot read: {exc.strerror}")]) from None
    raw = parse_yaml(text, source)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(source, [ConfigIssue("", "the top level must be a mapping of keys")])
    issues: list[ConfigIssue] = []
    secrets: set[str] = set()
    raw = _substitute_env(raw, (), issues, secrets)
    unset = {issue.path for issue in issues}  # each key whose environment variable is missing
    try:
        gateway = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        found = issues + _not_at(unset, issues_from_validation(exc))
        more = _check_raw_plugins(raw, plugin_classes, found)
        raise ConfigError(source, found + _not_at(unset, more)) from None
    base = Path(path).parent if path is not None else Path.cwd()
    issues.extend(_include_rule_files(gateway, base, secrets))
    loaded = LoadedConfig(
        gateway, source, secrets=secrets, path=Path(path) if path is not None else None
    )
    issues.extend(_not_at(unset, _check_plugins(loaded, plugin_classes)))
    issues.extend(_check_listeners(loaded))
    issues.extend(_check_pins(gateway))
    if issues:
        raise ConfigError(source, issues)
    return loaded


def _not_at(paths: set[str], issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """``issues`` without those at a key whose environment variable is not set: the empty
    value stood in for it, and "too short" or "not a number" about it would only mislead."""
    return [issue for issue in issues if issue.path not in paths]


def _include_rule_files(gateway: GatewayConfig, base: Path, secrets: set[str]) -> list[ConfigIssue]:
    """Append the rules of every ``include`` file; their problems carry the file's name."""
    issues: list[ConfigIssue] = []
    extra: list[Rule] = []
    for i, name in enumerate(gateway.include):
        path = name if name.is_absolute() else base / name
        where = f"include[{i}]"
        try:
            raw = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            issues.append(ConfigIssue(where, f"cannot read {path}: {exc.strerror}"))
            continue
        except ConfigError as exc:
            issues.extend(ConfigIssue(f"{where} ({name})", e.message) for e in exc.issues)
            continue
        if not isinstance(raw, dict) or set(raw) - {"rules"}:
            issues.append(ConfigIssue(where, f"{name} must hold a mapping with one key, 'rules'"))
            continue
        raw = _substitute_env(raw, (), issues, secrets)
        try:
            extra.extend(_RULES.validate_python(raw.get("rules") or []))
        except ValidationError as exc:
            issues.extend(issues_from_validation(exc, f"{name}: rules"))
    gateway.rules = [*gateway.rules, *extra]
    seen: dict[str, int] = {}
    for i, rule in enumerate(gateway.rules):
        if rule.name in seen:
            issues.append(
                ConfigIssue(
                    f"rules[{i}].name",
                    f"duplicate rule name {rule.name!r} (also rules[{seen[rule.name]}])",
                )
            )
        seen.setdefault(rule.name, i)
    return issues


def _check_plugins(loaded: LoadedConfig, plugin_classes: Mapping[str, Any]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    seen: dict[str, int] = {}
    for i, inst in enumerate(loaded.gateway.plugins):
        where = f"plugins[{i}]"
        if inst.id in seen:
            issues.append(
                ConfigIssue(
                    f"{where}.id",
                    f"duplicate instance id {inst.id!r} (also plugins[{seen[inst.id]}])",
                )
            )
        seen.setdefault(inst.id, i)
        cls = plugin_classes.get(inst.plugin)
        if cls is None:
            installed = ", ".join(sorted(plugin_classes)) or "none"
            issues.append(
                ConfigIssue(
                    f"{where}.plugin",
                    f"unknown plugin {inst.plugin!r} (installed: {installed}). A plugin is found "
                    "through its distribution's 'anfang.plugins' entry point: install it into "
                    "this Python (pip install anfang-plugin-NAME, or pip install -e DIR for one "
                    "being written); 'anfang plugins' lists what is installed",
                )
            )
            continue
        try:
            loaded.plugin_configs[inst.id] = cls.Config.model_validate(inst.config)
        except ValidationError as exc:
            issues.extend(issues_from_validation(exc, f"{where}.config"))
    return issues


def _check_raw_plugins(
    raw: dict[str, Any], plugin_classes: Mapping[str, Any], found: list[ConfigIssue]
) -> list[ConfigIssue]:
    """The plugin instances' own settings, when the rest of the file did not validate: every
    problem is reported in one run, not the gateway's first and the plugins' after a fix."""
    issues: list[ConfigIssue] = []
    entries = raw.get("plugins")
    if not isinstance(entries, list):
        return issues
    reported = {issue.path for issue in found}
    for i, entry in enumerate(entries):
        where = f"plugins[{i}].config"
        if not isinstance(entry, dict) or any(p.startswith(where) for p in reported):
            continue
        cls = plugin_classes.get(str(entry.get("plugin")))
        config = entry.get("config", {})
        if cls is None or not isinstance(config, dict):
            continue
        try:
            cls.Config.model_validate(config)
        except ValidationError as exc:
            issues.extend(issues_from_validation(exc, where))
    return issues


WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _check_listeners(loaded: LoadedConfig) -> list[ConfigIssue]:
    """Two enabled instances (or one and the API) listening on the same port: the second would
    fail to start again and again with "address already in use". A plugin's ``Config`` says
    where it listens through an optional ``listens()``: ``[(protocol, host, port)]``."""
    issues: list[ConfigIssue] = []
    taken: list[tuple[str, str, int, str]] = []
    api = loaded.gateway.api
    if api.enabled and api.port:
        taken.append(("tcp", api.host, api.port, "api.port"))
    for i, inst in enumerate(loaded.gateway.plugins):
        listens = getattr(loaded.plugin_configs.get(inst.id), "listens", None)
        if not inst.enabled or not callable(listens):
            continue
        for protocol, host, port in listens():
            if not port:
                continue  # 0: any free port
            for other_protocol, other_host, other_port, other in taken:
                same_host = host == other_host or WILDCARDS & {host, other_host}
                if (protocol, port) == (other_protocol, other_port) and same_host:
                    issues.append(
                        ConfigIssue(
                            f"plugins[{i}].config",
                            f"{protocol.upper()} port {port} on {host} is already taken by "
                            f"{other} ({other_host}): one of them must listen elsewhere",
                        )
                    )
            taken.append((protocol, host, port, f"plugins[{i}] ({inst.id})"))
    return issues


def _check_pins(gateway: GatewayConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    areas = {a.name for a in gateway.areas}
    codes: dict[str, str] = {}
    addresses: set[str] = set()
    for i, pin in enumerate(gateway.devices):
        where = f"devices[{i}]"
        if not pin.address.startswith(gateway.site.id + "/"):
            issues.append(
                ConfigIssue(
                    f"{where}.address",
                    f"address {pin.address!r} is not in site {gateway.site.id!r}",
                )
            )
        if pin.address in addresses:
            issues.append(ConfigIssue(f"{where}.address", f"{pin.address} is pinned twice"))
        addresses.add(pin.address)
        if pin.area is not None and pin.area not in areas:
            issues.append(
                ConfigIssue(
                    f"{where}.area",
                    f"unknown area {pin.area!r} (declared: {', '.join(sorted(areas)) or 'none'})",
                )
            )
        if pin.gb_code is not None:
            if pin.gb_code in codes:
                issues.append(
                    ConfigIssue(
                        f"{where}.gb_code",
                        f"GB code {pin.gb_code} is also pinned for {codes[pin.gb_code]}",
                    )
                )
            codes[pin.gb_code] = pin.address
    names: set[str] = set()
    devices = {"/".join(a.split("/")[:2]) for a in addresses}
    for i, area in enumerate(gateway.areas):
        if area.name in names:
            issues.append(ConfigIssue(f"areas[{i}].name", f"duplicate area {area.name!r}"))
        names.add(area.name)
        if f"{gateway.site.id}/{area.name}" in devices:
            issues.append(
                ConfigIssue(
                    f"areas[{i}].name",
                    f"area {area.name!r} has the address of a pinned device; areas and devices "
                    "share the site's address space",
                )
            )
        if area.device is not None and not area.device.startswith(gateway.site.id + "/"):
            issues.append(
                ConfigIssue(
                    f"areas[{i}].device",
                    f"device {area.device!r} is not in site {gateway.site.id!r}",
                )
            )
    return issues
