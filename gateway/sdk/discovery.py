"""Finding installed plugins: entry points in ``anfang.plugins``, loaded through pluggy.

First-party plugins in ``plugins/`` are registered through the same entry points a third party
uses (see pyproject.toml), so there is one path for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
import structlog

from gateway.model.kinds import KindError, KindRegistry
from gateway.sdk import hookspecs
from gateway.sdk.codec import CodecSpec
from gateway.sdk.plugin import Plugin
from gateway.sdk.sender import SenderSpec

log = structlog.get_logger("anfang.plugins")
ENTRY_POINT_GROUP = "anfang.plugins"


class _ClassProvider:
    """Adapts an entry point that names a Plugin class to the discovery hook."""

    def __init__(self, cls: type[Plugin[Any]]) -> None:
        self._cls = cls

    @hookspecs.hookimpl
    def anfang_plugin_classes(self) -> list[type[Plugin[Any]]]:
        return [self._cls]


@dataclass
class InstalledPlugins:
    classes: dict[str, type[Plugin[Any]]] = field(default_factory=dict)
    kinds: KindRegistry = field(default_factory=KindRegistry)
    distributions: dict[str, str] = field(default_factory=dict)
    codecs: dict[str, CodecSpec] = field(default_factory=dict)
    """Codec name → spec, from Plugin classes' ``codecs`` and the ``anfang_codecs`` hook."""
    codec_origins: dict[str, str] = field(default_factory=dict)
    senders: dict[str, SenderSpec] = field(default_factory=dict)
    """Test transmitters for ``anfang send``, from Plugin classes' ``senders``."""
    """Codec name → who provides it (plugin or entry point, with its distribution)."""
    errors: list[str] = field(default_factory=list)
    manager: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def discover(extra: list[object] | None = None) -> InstalledPlugins:
    """Load every installed plugin; a plugin that fails to load is reported, not fatal."""
    pm = plugin_manager()
    found = InstalledPlugins(manager=pm)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the gateway
            found.errors.append(f"entry point {ep.name} ({ep.value}) failed to load: {exc}")
            continue
        provider = _ClassProvider(obj) if isinstance(obj, type) and issubclass(obj, Plugin) else obj
        pm.register(provider, name=f"ep:{ep.name}")
        if ep.dist is not None:
            found.distributions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
    for obj in extra or []:
        provider = _ClassProvider(obj) if isinstance(obj, type) and issubclass(obj, Plugin) else obj
        pm.register(provider)
    for classes in pm.hook.anfang_plugin_classes():
        for cls in classes:
            _add_class(found, cls)
    for kinds in pm.hook.anfang_event_kinds():
        for spec in kinds:
            namespace = spec.name.split(".")[0]
            try:
                found.kinds.register(namespace, spec)
            except KindError as exc:
                found.errors.append(str(exc))
    _collect_codecs(found, pm)
    return found


def _add_class(found: InstalledPlugins, cls: type[Plugin[Any]]) -> None:
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        found.errors.append(f"{cls.__module__}.{cls.__qualname__} has no 'name'")
        return
    if name in found.classes and found.classes[name] is not cls:
        found.errors.append(
            f"two plugins are named {name!r}: {found.classes[name].__module__} and {cls.__module__}"
        )
        return
    for spec in cls.kinds:
        try:
            found.kinds.register(name, spec)
        except KindError as exc:
            found.errors.append(f"plugin {name}: {exc}")
            return
    found.classes[name] = cls
    origin = _with_distribution(f"plugin {name}", found.distributions.get(name))
    for codec in cls.codecs:
        _add_codec(found, codec, origin)
    for sender in cls.senders:
        if sender.name in found.senders:
            found.errors.append(f"{origin}: a sender named {sender.name!r} is already installed")
            continue
        found.senders[sender.name] = sender


def _collect_codecs(found: InstalledPlugins, pm: pluggy.PluginManager) -> None:
    """Call each ``anfang_codecs`` implementation on its own, so every codec has a known origin.

    A failing implementation is reported like a plugin that fails to load; the rest still count.
    """
    for impl in pm.hook.anfang_codecs.get_hookimpls():
        if impl.hookwrapper or impl.wrapper:
            continue
        origin = _origin(found, impl.plugin_name, impl.plugin)
        try:
            codecs = impl.function()
        except Exception as exc:  # a broken third-party hook must not stop the others
            found.errors.append(f"{origin}: anfang_codecs failed: {exc}")
            continue
        if not isinstance(codecs, list | tuple):
            found.errors.append(f"{origin}: anfang_codecs returned {codecs!r}, not a list")
            continue
        for codec in codecs:
            _add_codec(found, codec, origin)


def _origin(found: InstalledPlugins, plugin_name: str, plugin: object) -> str:
    if plugin_name.startswith("ep:"):
        ep_name = plugin_name.removeprefix("ep:")
        return _with_distribution(f"entry point {ep_name}", found.distributions.get(ep_name))
    return str(getattr(plugin, "__name__", type(plugin).__qualname__))


def _with_distribution(origin: str, distribution: str | None) -> str:
    return origin if distribution is None else f"{origin} ({distribution})"


def _add_codec(found: InstalledPlugins, codec: object, origin: str) -> None:
    if not isinstance(codec, CodecSpec):
        found.errors.append(f"{origin}: codec {codec!r} is not a CodecSpec")
        return
    if codec.name in found.codecs:
        if found.codecs[codec.name] != codec:
            found.errors.append(
                f"two codecs are named {codec.name!r}: {found.codec_origins[codec.name]} "
                f"and {origin}; keeping the first"
            )
        return
    found.codecs[codec.name] = codec
    found.codec_origins[codec.name] = origin
