"""The registry: every device and point with its address, GB code and status.

Plugins upsert what they find; the installer's pins (config) win for names, codes, locations and
areas. Supervision has one owner: a plugin declares how often a device must be heard from, and
only the registry raises ``device.offline`` (and its restore). Device clocks reported by plugins
are tracked here, raising ``device.clock_skew`` beyond the GB 50348 §6.4.1(8) limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

import structlog

from gateway.config.schema import AreaConfig, DevicePin
from gateway.model.address import Address, GbCodeAllocator
from gateway.model.entities import Area, Device, DeviceStatus, Point
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.registry.areas import Change
from gateway.registry.areas import apply as apply_change
from gateway.registry.statedb import StateDB
from gateway.sdk.clock import Clock
from gateway.sdk.site_view import SiteView

log = structlog.get_logger("anfang.registry")

Publish = Callable[[Event], Awaitable[int]]

CLOCK_SKEW_LIMIT_S = 10.0
"""GB 50348-2018 §6.4.1(8): devices within the system agree to within 10 s."""
SUPERVISION_TICK_S = 1.0
OVERRIDABLE = ("name", "location", "area")
"""What the API may edit; the YAML keeps plugin instances, rules and GB codes."""


@dataclass(frozen=True, slots=True)
class Target:
    """A command target as the registry knows it."""

    type: Literal["device", "point", "area"]
    address: str
    owner: str | None
    """The plugin instance id that executes commands on it."""
    capabilities: tuple[str, ...]
    """Actions the target itself declares; empty means whatever its plugin supports."""
    device: str | None = None
    area: str | None = None


def number_key(number: str) -> str:
    """Area numbers compare as numbers when they are digits (``01`` is ``1``)."""
    return str(int(number)) if number.isdigit() else number


class Registry:
    def __init__(
        self,
        site: str,
        clock: Clock,
        db: StateDB,
        publish: Publish,
        *,
        pins: list[DevicePin] | None = None,
        areas: list[AreaConfig] | None = None,
        gb: GbCodeAllocator | None = None,
    ) -> None:
        self.site = site
        self.clock = clock
        self._db = db
        self._publish = publish
        self._pins = {p.address: p for p in pins or []}
        self.overrides: dict[str, dict[str, Any]] = dict(db.items("override"))
        """Fields edited through the API, by address; they win over the YAML's pins."""
        self._gb = gb or GbCodeAllocator("3402000000")
        self.devices: dict[str, Device] = {}
        self.points: dict[str, Point] = {}
        self.areas: dict[str, Area] = {}
        self._heard: dict[str, float] = {}  # address -> monotonic time last heard
        self._seen_at: dict[str, float] = {}  # address -> monotonic time last_seen was stored
        self._skewed: set[str] = set()
        for pin in self._pins.values():
            if pin.gb_code:
                self._gb.reserve(pin.gb_code)
        for raw in db.items("device").values():
            device = Device.model_validate(raw)
            self.devices[device.address] = device
            if device.gb_code and device.gb_code not in {p.gb_code for p in self._pins.values()}:
                self._gb.reserve(device.gb_code)
        for raw in db.items("point").values():
            point = Point.model_validate(raw)
            self.points[point.address] = point
        self._numbered: dict[tuple[str, str], str] = {}
        """(panel, area number) → area address, for events that name areas by number."""
        self._areas_changed = 0
        self._area_summary: tuple[int, frozenset[str], bool] = (-1, frozenset(), False)
        for raw in db.items("area").values():
            area = Area.model_validate(raw)
            self.areas[area.address] = area
            self._index_area(area)
        self._area_pins = {f"{site}/{a.name}": a for a in areas or []}
        for cfg in self._area_pins.values():
            self.upsert_area(cfg.name, device=cfg.device, local_id=cfg.local_id, title=cfg.title)
        now = clock.monotonic()
        for address in self.devices:
            self._heard[address] = now  # supervision restarts its count at startup

    async def site_view(self) -> SiteView:
        """Every device, area and point, live and read-only (a copy in an isolated plugin)."""
        return SiteView(
            MappingProxyType(self.devices),
            MappingProxyType(self.areas),
            MappingProxyType(self.points),
        )

    # -- devices and points -------------------------------------------------------------------

    def upsert_device(
        self, address: str, *, kind: str, plugin: str | None = None, **fields: Any
    ) -> Device:
        """Create or update a device; pinned fields from config always win."""
        if Address.parse(address).point is not None:
            raise ValueError(f"{address} is a point address; use upsert_point")
        current = self.devices.get(address)
        data = self._merge(
            current, address, kind, {**fields, "plugin": plugin}, ("name", "gb_code", "location")
        )
        if not data.get("gb_code"):
            data["gb_code"] = self._gb.assign(kind)
        device = Device.model_validate(data)
        if device != current:
            self.devices[address] = device
            self._db.put("device", address, device.model_dump(mode="json"))
        self._heard.setdefault(address, self.clock.monotonic())
        return device

    def upsert_point(self, address: str, *, kind: str, **fields: Any) -> Point:
        if Address.parse(address).point is None:
            raise ValueError(f"{address} is a device address; use upsert_device")
        current = self.points.get(address)
        data = self._merge(current, address, kind, fields, ("name", "gb_code", "area", "location"))
        point = Point.model_validate(data)
        if point != current:
            self.points[address] = point
            self._db.put("point", address, point.model_dump(mode="json"))
        return point

    def _merge(
        self,
        current: Device | Point | None,
        address: str,
        kind: str,
        fields: dict[str, Any],
        pinned: tuple[str, ...],
    ) -> dict[str, Any]:
        """What is stored, updated by what the plugin reports, overridden by the pins."""
        data: dict[str, Any] = current.model_dump() if current else {"address": address}
        data.update({k: v for k, v in fields.items() if v is not None})
        data["kind"] = kind
        pin = self._pins.get(address)
        if pin is not None:
            for key in pinned:
                value = getattr(pin, key)
                if value is not None:
                    data[key] = value
        for key, value in self.overrides.get(address, {}).items():
            if key in pinned and key in OVERRIDABLE:
                data[key] = value
        return data

    def set_override(self, address: str, fields: dict[str, str | None]) -> Device | Point:
        """Names, locations and area membership edited through the API: kept in the gateway's
        database and applied over the YAML's pins (a None value removes that override)."""
        unknown = set(fields) - set(OVERRIDABLE)
        if unknown:
            raise ValueError(f"only {', '.join(OVERRIDABLE)} can be edited, not {sorted(unknown)}")
        current: Device | Point | None = self.devices.get(address) or self.points.get(address)
        if current is None:
            raise KeyError(f"no device or point at {address}")
        if isinstance(current, Device) and "area" in fields:
            raise ValueError("area membership belongs to points (zones, doors), not devices")
        if fields.get("area") is not None and f"{self.site}/{fields['area']}" not in self.areas:
            raise ValueError(f"no area named {fields['area']!r}")
        merged = {**self.overrides.get(address, {}), **fields}
        merged = {k: v for k, v in merged.items() if v is not None}
        if merged:
            self.overrides[address] = merged
            self._db.put("override", address, merged)
        else:
            self.overrides.pop(address, None)
            self._db.delete("override", address)
        if isinstance(current, Device):
            return self.upsert_device(address, kind=current.kind, plugin=current.plugin)
        return self.upsert_point(address, kind=current.kind)

    def update_pins(self, pins: list[DevicePin], areas: list[AreaConfig]) -> None:
        """A reloaded config's pins: re-apply them to every device, point and area they name."""
        old = set(self._pins)
        held = {p.gb_code for p in self._pins.values()} | {d.gb_code for d in self.devices.values()}
        self._pins = {p.address: p for p in pins}
        for pin in pins:
            if pin.gb_code and pin.gb_code not in held:
                self._gb.reserve(pin.gb_code)
        for address in old | set(self._pins):
            device = self.devices.get(address)
            if device is not None:
                self.upsert_device(address, kind=device.kind, plugin=device.plugin)
            point = self.points.get(address)
            if point is not None:
                self.upsert_point(address, kind=point.kind)
        self._area_pins = {f"{self.site}/{a.name}": a for a in areas}
        for cfg in areas:
            self.upsert_area(cfg.name, device=cfg.device, local_id=cfg.local_id, title=cfg.title)

    def get_device(self, address: str) -> Device | None:
        return self.devices.get(address)

    def owner_of(self, target: str) -> str | None:
        """The plugin instance that carries out commands on a device, point or area."""
        resolved = self.resolve_target(target)
        return resolved.owner if resolved else None

    # -- areas -----------------------------------------------------------------------------------

    def upsert_area(
        self,
        name: str,
        *,
        device: str | None = None,
        local_id: str | None = None,
        title: str | None = None,
    ) -> Area:
        """Create or update an area (a panel's partition); the config's areas win."""
        address = f"{self.site}/{name}"
        current = self.areas.get(address) or Area(site=self.site, name=name)
        fields: dict[str, str | None] = {"device": device, "local_id": local_id, "title": title}
        update: dict[str, str | None] = {k: v for k, v in fields.items() if v is not None}
        pin = self._area_pins.get(address)
        if pin is not None:
            pinned = {"device": pin.device, "local_id": pin.local_id, "title": pin.title}
            update.update({k: v for k, v in pinned.items() if v is not None})
            update["gb_code"] = pin.gb_code
        area = Area.model_validate({**current.model_dump(), **update})
        if area != self.areas.get(address):
            self._store_area(area)
        return area

    def area_of(self, source: str, area_field: str | None = None) -> Area | None:
        """The area an event or command belongs to.

        By the event's ``area`` field — first as the sending panel's own number for one of its
        areas (``local_id``), then as an area name not bound to another panel — else by the
        area the source point is assigned to.
        """
        if area_field:
            device = "/".join(source.split("/")[:2])
            numbered = self._numbered.get((device, number_key(area_field)))
            if numbered is not None:  # the panel's own number for one of its areas
                return self.areas[numbered]
            named = self.areas.get(f"{self.site}/{area_field}")
            if named is not None and named.device in (None, device):
                return named
        if source in self.areas:
            return self.areas[source]
        point = self.points.get(source)
        if point is not None and point.area:
            return self.areas.get(f"{self.site}/{point.area}")
        return None

    def apply_area_change(
        self, source: str, area_field: str | None, change: Change | None
    ) -> Area | None:
        """Apply one transition to the area it concerns; returns the area if it changed."""
        if change is None:
            return None
        area = self.area_of(source, area_field)
        if area is None:
            return None
        updated = apply_change(area, change, self.clock.now())
        if updated is area:
            return None
        self._store_area(updated)
        return updated

    def _store_area(self, area: Area) -> None:
        self._index_area(area)
        self.areas[area.address] = area
        self._db.put("area", area.address, area.model_dump(mode="json"))

    def may_have_area(self, source: str) -> bool:
        """From the address alone, whether an event from ``source`` could belong to an area:
        False lets the area tracker pass over an event without reading it (a camera, a UPS, a
        site with no areas), which is most of a busy journal."""
        version, devices, unbound = self._area_summary
        if version != self._areas_changed:
            devices = frozenset(a.device for a in self.areas.values() if a.device)
            unbound = any(a.device is None for a in self.areas.values())
            self._area_summary = (self._areas_changed, devices, unbound)
        if unbound or source in self.areas:  # an unbound area may be named by any event
            return True
        if "/".join(source.split("/")[:2]) in devices:
            return True
        point = self.points.get(source)
        return point is not None and bool(point.area)

    def _index_area(self, area: Area) -> None:
        old = self.areas.get(area.address)
        if old is None or old.device != area.device:
            # may_have_area's summary depends on which device each area belongs to, not on
            # its state: bumped per alarm, it was rebuilt over every area on every alarm
            self._areas_changed += 1
        if old is not None and old.device and old.local_id:
            self._numbered.pop((old.device, number_key(old.local_id)), None)
        if area.device and area.local_id:
            self._numbered[(area.device, number_key(area.local_id))] = area.address

    # -- command targets -------------------------------------------------------------------------

    def resolve_target(self, target: str) -> Target | None:
        """Who carries out a command on ``target`` (device, point or area), or None if unknown."""
        if target in self.areas:
            area = self.areas[target]
            panel = self.devices.get(area.device) if area.device else None
            return Target(
                "area", target, panel.plugin if panel else None, (), area.device, area.address
            )
        if target in self.devices:
            device = self.devices[target]
            return Target("device", target, device.plugin, tuple(device.capabilities), target)
        point = self.points.get(target)
        if point is not None:
            device_address = "/".join(target.split("/")[:2])
            owner = self.devices.get(device_address)
            in_area = self.area_of(target)
            return Target(
                "point",
                target,
                owner.plugin if owner else None,
                tuple(point.capabilities),
                device_address,
                in_area.address if in_area else None,
            )
        return None

    # -- supervision ---------------------------------------------------------------------------

    def supervise(self, address: str, interval_s: float) -> None:
        """The device must be heard from at least every ``interval_s`` seconds."""
        device = self.devices.get(address)
        if device is None:
            raise KeyError(f"supervise: unknown device {address}; upsert it first")
        if device.supervision_s != interval_s:
            self._store(device.model_copy(update={"supervision_s": interval_s}))
        self._heard[address] = self.clock.monotonic()

    async def heard(self, address: str) -> None:
        """Note that a device (or one of its points) spoke; restores it if it was offline."""
        device_address = address if address.count("/") == 1 else address.rsplit("/", 1)[0]
        device = self.devices.get(device_address)
        if device is None:
            return
        mono = self.clock.monotonic()
        self._heard[device_address] = mono
        recently = mono - self._seen_at.get(device_address, -9.0) < 1.0
        if device.status is DeviceStatus.ONLINE and recently:
            return  # last_seen is kept to the second; most calls stop here
        self._seen_at[device_address] = mono
        now = self.clock.now()
        if device.status is not DeviceStatus.ONLINE:
            was_offline = device.status is DeviceStatus.OFFLINE
            self._store(device.model_copy(update={"status": DeviceStatus.ONLINE, "last_seen": now}))
            if was_offline:
                await self._raise(
                    device_address,
                    "device.offline",
                    Phase.RESTORE,
                    f"{device_address} is back online",
                )
        elif device.last_seen is None or (now - device.last_seen).total_seconds() >= 1.0:
            self._store(device.model_copy(update={"last_seen": now}))

    async def check_supervision(self) -> None:
        """Mark devices offline that have not been heard from within their interval."""
        mono = self.clock.monotonic()
        for address, device in list(self.devices.items()):
            interval = device.supervision_s
            if interval is None or device.status is DeviceStatus.OFFLINE:
                continue
            silent = mono - self._heard.get(address, mono)
            if silent > interval:
                self._store(device.model_copy(update={"status": DeviceStatus.OFFLINE}))
                await self._raise(
                    address,
                    "device.offline",
                    Phase.ALARM,
                    f"{address} not heard from for {silent:.0f} s "
                    f"(supervision interval {interval:g} s)",
                    data={"silent_s": round(silent, 1), "interval_s": interval},
                )

    async def run_supervision(self) -> None:
        while True:
            await self.clock.sleep(SUPERVISION_TICK_S)
            await self.check_supervision()

    # -- device clocks -------------------------------------------------------------------------

    async def report_clock(self, address: str, device_time: datetime) -> float:
        """Record a device's clock reading; returns its offset (device − gateway) in seconds."""
        device = self.devices.get(address)
        if device is None:
            raise KeyError(f"report_clock: unknown device {address}; upsert it first")
        offset = (device_time - self.clock.now()).total_seconds()
        self._store(device.model_copy(update={"clock_offset_s": round(offset, 3)}))
        skewed = abs(offset) > CLOCK_SKEW_LIMIT_S
        if skewed and address not in self._skewed:
            self._skewed.add(address)
            await self._raise(
                address,
                "device.clock_skew",
                Phase.ALARM,
                f"{address} clock is {offset:+.1f} s off (limit ±{CLOCK_SKEW_LIMIT_S:g} s)",
                data={"offset_s": round(offset, 3)},
            )
        elif not skewed and address in self._skewed:
            self._skewed.discard(address)
            await self._raise(
                address,
                "device.clock_skew",
                Phase.RESTORE,
                f"{address} clock within limits again",
                data={"offset_s": round(offset, 3)},
            )
        return offset

    # -- helpers -------------------------------------------------------------------------------

    def _store(self, device: Device) -> None:
        self.devices[device.address] = device
        self._db.put("device", device.address, device.model_dump(mode="json"))

    async def _raise(
        self, source: str, kind: str, phase: Phase, text: str, data: dict[str, Any] | None = None
    ) -> None:
        now = self.clock.now()
        event = Event(
            kind=kind,
            phase=phase,
            priority=2 if kind == "device.offline" else 3,
            source=source,
            occurred_at=now,
            received_at=now,
            plugin="registry",
            text=text,
            data=data or {},
        )
        await self._publish(event)
