"""The plugin SDK: subclass :class:`Plugin`, use the :class:`PluginContext` you are given."""

from gateway.sdk.clock import Clock, ManualClock, SystemClock
from gateway.sdk.context import PluginContext, PublishError
from gateway.sdk.hookspecs import hookimpl, hookspec
from gateway.sdk.plugin import NoConfig, Plugin

__all__ = [
    "Clock",
    "ManualClock",
    "NoConfig",
    "Plugin",
    "PluginContext",
    "PublishError",
    "SystemClock",
    "hookimpl",
    "hookspec",
]
