"""The plugin SDK: subclass :class:`Plugin`, use the :class:`PluginContext` you are given.

A protocol codec is offered to tools as a :class:`CodecSpec` (see :mod:`gateway.sdk.codec`).
"""

from gateway.sdk.clock import Clock, ManualClock, SystemClock
from gateway.sdk.codec import CodecError, CodecSpec, DecodeContext, Decoded
from gateway.sdk.conformance import ConformanceSpec
from gateway.sdk.context import PluginContext, PublishError
from gateway.sdk.hookspecs import hookimpl, hookspec
from gateway.sdk.plugin import NoConfig, Plugin
from gateway.sdk.site_view import SiteView

__all__ = [
    "Clock",
    "CodecError",
    "CodecSpec",
    "ConformanceSpec",
    "DecodeContext",
    "Decoded",
    "ManualClock",
    "NoConfig",
    "Plugin",
    "PluginContext",
    "PublishError",
    "SiteView",
    "SystemClock",
    "hookimpl",
    "hookspec",
]
