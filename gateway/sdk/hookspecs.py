"""Every pluggy hook Anfang calls, in one place: the page an integrator reads first.

A distribution provides plugins through the ``anfang.plugins`` entry-point group. The entry point
names either a :class:`gateway.sdk.Plugin` subclass (the common case: nothing else needed) or a
module/object carrying ``@hookimpl`` functions from this page.

Hooks are called with keyword arguments only. Unless a hook says "first result wins", every
implementation is called and the results are collected in a list (last registered first).

Per-instance behaviour (start, stop, execute a command) is not a hook: it lives on the plugin's
instance, see :class:`gateway.sdk.plugin.Plugin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from gateway.model.kinds import KindSpec
    from gateway.sdk.codec import CodecSpec
    from gateway.sdk.plugin import Plugin

PROJECT = "anfang"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------------------------
# Discovery: called once when the host loads the installed plugins, before any config is read.
# -------------------------------------------------------------------------------------------


@hookspec
def anfang_plugin_classes() -> list[type[Plugin[Any]]]:
    """Return the plugin classes this distribution provides.

    Called once at load time. Each class declares its name, version, protocols, ``Config``
    model, device kinds, actions, event kinds and codecs as class attributes. An entry point that
    names a Plugin subclass directly is treated as if it implemented this hook returning it.
    """


@hookspec
def anfang_event_kinds() -> list[KindSpec]:
    """Return extra event kinds to register, each under its plugin's namespace.

    Called once at load time, after :func:`anfang_plugin_classes`. Kinds declared on a Plugin
    class (``kinds = (...)``) are registered without this hook; use it for kinds shared by
    several plugins of one distribution. A kind outside the namespace is refused with an error.
    """


@hookspec
def anfang_codecs() -> list[CodecSpec]:
    """Return the protocol codecs this distribution provides (see :mod:`gateway.sdk.codec`).

    Called once at load time, after :func:`anfang_event_kinds`. Codecs declared on a Plugin
    class (``codecs = (...)``) are collected without this hook; use it for a codec that is not
    tied to one plugin class, from a module the entry point names (e.g. ``plugins.x.hooks``).
    Every implementation is called; a codec name used twice is reported as an error and the
    first one found (class attributes first, then hooks in entry-point order) is kept. Read by
    ``anfang decode`` and the conformance kit.
    """


# -------------------------------------------------------------------------------------------
# Gateway lifecycle: observers such as metrics exporters or audit sinks.
# -------------------------------------------------------------------------------------------


@hookspec
def anfang_gateway_started(instance_ids: list[str]) -> None:
    """Called once every configured instance has been started (or failed to and is retrying)."""


@hookspec
def anfang_gateway_stopping() -> None:
    """Called once when the gateway begins a clean shutdown, before instances are stopped."""
