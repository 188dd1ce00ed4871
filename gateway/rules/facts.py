"""What conditions may read about the site: areas (arming state) and devices (status).

The live engine reads the registry; the dry run reads the registry rows the gateway last saved in
its data directory, so both judge a rule the same way from the same kind of facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from gateway.config.schema import GatewayConfig
from gateway.model.entities import Area, Device, Point
from gateway.registry.registry import Registry


class Facts(Protocol):
    site: str

    def area_of(self, source: str, area_field: str | None) -> Area | None:
        """The area an event from ``source`` (with its ``area`` field) belongs to."""

    def area(self, name: str) -> Area | None:
        """The area named ``name`` in this site."""

    def device(self, address: str) -> Device | None: ...


class RegistryFacts:
    """Facts from the running gateway's registry."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self.site = registry.site

    def area_of(self, source: str, area_field: str | None) -> Area | None:
        return self._registry.area_of(source, area_field)

    def area(self, name: str) -> Area | None:
        return self._registry.areas.get(f"{self.site}/{name}")

    def device(self, address: str) -> Device | None:
        return self._registry.get_device(address)


class StaticFacts:
    """Facts from fixed tables (the dry run, and tests)."""

    def __init__(
        self,
        site: str,
        areas: Mapping[str, Area] | None = None,
        devices: Mapping[str, Device] | None = None,
        point_areas: Mapping[str, str] | None = None,
    ) -> None:
        self.site = site
        self.areas = dict(areas or {})
        """By area name."""
        self.devices = dict(devices or {})
        self.point_areas = dict(point_areas or {})
        """Point address → area name."""
        self.points: frozenset[str] = frozenset()
        """Every point the registry has seen (for reference checks)."""

    def area_of(self, source: str, area_field: str | None) -> Area | None:
        """As :meth:`Registry.area_of`: the panel's own area number, an area name, the
        source's own area address, then the area its point is assigned to."""
        if area_field:
            device = "/".join(source.split("/")[:2])
            for area in self.areas.values():
                if area.device == device and area.local_id == area_field:
                    return area
            named = self.areas.get(area_field)
            if named is not None and named.device in (None, device):
                return named
        for area in self.areas.values():
            if area.address == source:
                return area
        name = self.point_areas.get(source)
        return self.areas.get(name) if name else None

    def area(self, name: str) -> Area | None:
        return self.areas.get(name)

    def device(self, address: str) -> Device | None:
        return self.devices.get(address)

    @classmethod
    def from_data_dir(cls, config: GatewayConfig, data_dir: Path) -> StaticFacts:
        """The registry as the gateway last saved it (read only), over the config's areas and
        pins (arming then reads as unknown)."""
        site = config.site.id
        areas = {
            a.name: Area(site=site, name=a.name, device=a.device, local_id=a.local_id)
            for a in config.areas
        }
        devices: dict[str, Device] = {}
        point_areas = {p.address: p.area for p in config.devices if p.area}
        points: set[str] = set()
        path = data_dir / "state.sqlite3"
        if path.exists():
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = conn.execute(
                    "SELECT ns, value FROM kv WHERE ns IN ('area', 'device', 'point')"
                )
                for ns, value in rows:
                    if ns == "area":
                        area = Area.model_validate_json(value)
                        pinned = areas.get(area.name)
                        if pinned is not None:  # the config's panel binding wins, as live
                            area = area.model_copy(
                                update={"device": pinned.device, "local_id": pinned.local_id}
                            )
                        areas[area.name] = area
                    elif ns == "device":
                        device = Device.model_validate_json(value)
                        devices[device.address] = device
                    else:
                        point = Point.model_validate_json(value)
                        points.add(point.address)
                        if point.area:
                            point_areas.setdefault(point.address, point.area)
            except sqlite3.Error:
                pass  # an older or foreign state file: judge with the config alone
            finally:
                conn.close()
        facts = cls(site, areas, devices, point_areas)
        facts.points = frozenset(points)
        return facts
