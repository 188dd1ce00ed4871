"""The whole site at one moment, for a plugin that mirrors it (``await ctx.registry.site_view()``).

The MQTT connector publishes every device's status, every area's arming state and a discovery
entry per zone; it reads them through this one call, which answers the same inline (the live
registry, read-only) and in an isolated plugin's process (a copy fetched from the host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.model.entities import Area, Device, Point


@dataclass(frozen=True)
class SiteView:
    """Devices and points by address, areas by address (``site/name``). Read-only."""

    devices: Mapping[str, Device] = field(default_factory=dict)
    areas: Mapping[str, Area] = field(default_factory=dict)
    points: Mapping[str, Point] = field(default_factory=dict)
