"""The registry: every device and point with its address, GB code and status.

Plugins upsert what they find; the installer's pins (config) win for names, codes, locations and
areas. Supervision has one owner: a plugin declares how often a device must be heard from, and
only the registry raises ``device.offline`` (and its restore). Device clocks reported by plugins
are tracked here, raising ``device.clock_skew`` beyond the GB 50348 §6.4.1(8) limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog

from gateway.config.schema import AreaConfig, DevicePin
from gateway.model.address import Address, GbCodeAllocator
from gateway.model.entities import Area, Device, DeviceStatus, Point
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.registry.statedb import StateDB
from gateway.sdk.clock import Clock

log = structlog.get_logger("anfang.registry")

Publish = Callable[[Event], Awaitable[int]]

CLOCK_SKEW_LIMIT_S = 10.0
"""GB 50348-2018 §6.4.1(8): devices within the system agree to within 10 s."""
SUPERVISION_TICK_S = 1.0


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
        self._gb = gb or GbCodeAllocator("3402000000")
        self.devices: dict[str, Device] = {}
        self.points: dict[str, Point] = {}
        self.areas: dict[str, Area] = {}
        self._heard: dict[str, float] = {}  # address -> monotonic time last heard
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
        stored_areas = {k: Area.model_validate(v) for k, v in db.items("area").items()}
        for cfg in areas or []:
            area = stored_areas.get(f"{site}/{cfg.name}") or Area(site=site, name=cfg.name)
            area = area.model_copy(update={"title": cfg.title, "gb_code": cfg.gb_code})
            self.areas[area.address] = area
        now = clock.monotonic()
        for address in self.devices:
            self._heard[address] = now  # supervision restarts its count at startup

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
        return data

    def get_device(self, address: str) -> Device | None:
        return self.devices.get(address)

    def owner_of(self, target: str) -> str | None:
        """The plugin instance owning a device, or the device of a point."""
        parts = target.split("/")
        device = self.devices.get("/".join(parts[:2])) if len(parts) >= 2 else None
        return device.plugin if device else None

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
        device_address = "/".join(address.split("/")[:2])
        device = self.devices.get(device_address)
        if device is None:
            return
        self._heard[device_address] = self.clock.monotonic()
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
