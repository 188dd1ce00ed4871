"""Process isolation: a plugin instance in its own process, so a crash in C restarts only it.

``isolation: process`` in an instance's config makes the host run :func:`isolated_plugin_class`
instead of the plugin class itself; see ``proxy`` (host side), ``child`` and ``remote`` (plugin
side) and ``wire``/``rpc`` (the socket between them).
"""

from gateway.host.process.errors import IsolatedPluginError
from gateway.host.process.proxy import IsolatedPlugin, isolated_plugin_class

__all__ = ["IsolatedPlugin", "IsolatedPluginError", "isolated_plugin_class"]
