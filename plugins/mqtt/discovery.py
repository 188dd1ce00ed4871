"""Home Assistant MQTT discovery configs (sans-IO): what HA should show for what we have.

Follows https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery: one retained JSON
config per entity on ``<discovery prefix>/<component>/<node_id>/<object_id>/config``, where
node_id and object_id are ``[a-zA-Z0-9_-]+``. Areas become alarm panels (arm and disarm go to
our command topic as JSON commands), zones and doors binary sensors (from the derived point
state), numeric event data sensors (from the telemetry topic). Every entity is unavailable when
the gateway's Last Will says ``offline``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from gateway.model.entities import Area, Device, Point
from gateway.sdk.site_view import SiteView
from plugins.mqtt.delivery import Message
from plugins.mqtt.memo import Memo
from plugins.mqtt.topics import Topics

_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
ORIGIN = {"name": "Anfang gateway", "support_url": "https://github.com/anfang"}

ZONE_KINDS = frozenset({"zone"})
DOOR_KINDS = frozenset({"door", "reader"})

UNITS: tuple[tuple[str, str, str | None], ...] = (
    # field-name suffix, unit, HA device_class
    ("_pct", "%", None),
    ("_percent", "%", None),
    ("_v", "V", "voltage"),
    ("_a", "A", "current"),
    ("_w", "W", "power"),
    ("_hz", "Hz", "frequency"),
    ("_c", "°C", "temperature"),
    ("_s", "s", "duration"),
)
"""Units read from the data key's suffix (``battery_pct``, ``input_v``): the convention the
plugins' ``data`` follows. A key with no known suffix becomes a sensor without a unit."""

ARMING_TO_HA = "{{ {'away': 'armed_away', 'stay': 'armed_home', 'disarmed': 'disarmed'}"
AREA_VALUE_TEMPLATE = (
    "{% if value_json.alarm and value_json.arming != 'disarmed' %}triggered{% else %}"
    + ARMING_TO_HA
    + ".get(value_json.arming, 'unknown') }}{% endif %}"
)
AREA_COMMAND_TEMPLATE = (
    "{\"action\": \"{{ 'area.disarm' if action == 'DISARM' else 'area.arm' }}\", "
    "\"params\": {\"mode\": \"{{ 'stay' if action == 'ARM_HOME' else 'away' }}\"}, "
    '"reason": "Home Assistant"}'
)


def object_id(*parts: str) -> str:
    """A safe, unique object id for an address (and field): unsafe characters become '_' and
    a short hash of the original keeps 'a.b' and 'a_b' apart."""
    joined = "_".join(p.replace("/", "_") for p in parts)
    safe = _UNSAFE.sub("_", joined)
    if safe != joined:
        safe += "_" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]
    return safe


class Discovery:
    def __init__(self, topics: Topics, prefix: str, site: str, version: str) -> None:
        self.topics = topics
        self.prefix = prefix
        self.node = object_id(topics.prefix)
        self.site = site
        self.version = version
        self._published: dict[str, bytes] = {}
        self._sensors: set[tuple[str, str]] = set()
        self._built: Memo[Message | None] = Memo()

    def forget(self) -> None:
        self._published.clear()

    def configs(self, site: SiteView) -> list[Message]:
        """Every discovery config for the site: its areas, zones and doors, and the sensors
        seen so far. Each is built again only when its entity changed, or the facts of its
        device that it shows (address, name, kind, vendor): not on every ``last_seen``."""
        devices, memo = site.devices, self._built
        out: list[Message | None] = []
        for area in site.areas.values():
            panel = devices.get(area.device) if area.device else None
            out.append(
                memo.get(("area", area.address), (area, _shown(panel)), self.area, area, panel)
            )
        for point in site.points.values():
            owner = devices.get(point.address.rsplit("/", 1)[0])  # site/device/point
            out.append(
                memo.get(
                    ("point", point.address),
                    (point, _shown(owner)),
                    self.binary_sensor,
                    point,
                    owner,
                )
            )
        for source, key in self.sensors:
            owner = devices.get("/".join(source.split("/")[:2]))
            out.append(
                memo.get(("sensor", source, key), _shown(owner), self.sensor, source, key, owner)
            )
        memo.sweep()
        return [m for m in out if m is not None]

    def topic(self, component: str, oid: str) -> str:
        return f"{self.prefix}/{component}/{self.node}/{oid}/config"

    def _common(self, unique: str, name: str, device: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "unique_id": f"{self.topics.prefix}:{unique}",
            "availability_topic": self.topics.gateway_status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
            "origin": {**ORIGIN, "sw_version": self.version},
            "qos": 1,
        }

    def _device(
        self, address: str, name: str | None, kind: str, vendor: str | None
    ) -> dict[str, Any]:
        return {
            "identifiers": [f"anfang:{address}"],
            "name": name or address,
            "manufacturer": vendor or "Anfang",
            "model": kind,
            "via_device": f"anfang:{self.site}/gateway",
        }

    def area(self, area: Area, panel: Device | None) -> Message:
        device = (
            self._device(panel.address, panel.name, panel.kind, panel.vendor)
            if panel is not None
            else self._device(area.address, area.title, "area", None)
        )
        config = {
            **self._common(f"{area.address}:alarm_panel", area.title or area.name, device),
            "state_topic": self.topics.area_state(area.address),
            "value_template": AREA_VALUE_TEMPLATE,
            "command_topic": self.topics.command(area.address),
            "command_template": AREA_COMMAND_TEMPLATE,
            "supported_features": ["arm_home", "arm_away"],
            "code_arm_required": False,
            "code_disarm_required": False,
        }
        return self._message("alarm_control_panel", object_id(area.address), config)

    def binary_sensor(self, point: Point, owner: Device | None) -> Message | None:
        if point.kind in ZONE_KINDS:
            device_class = "safety"
        elif point.kind in DOOR_KINDS:
            device_class = "door"
        else:
            return None
        device = (
            self._device(owner.address, owner.name, owner.kind, owner.vendor)
            if owner is not None
            else self._device(point.address, point.name, point.kind, None)
        )
        config = {
            **self._common(f"{point.address}:binary_sensor", point.name or point.address, device),
            "state_topic": self.topics.point_state(point.address),
            "value_template": "{{ 'ON' if value_json.active else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "device_class": device_class,
        }
        return self._message("binary_sensor", object_id(point.address), config)

    def note_sensor(self, source: str, key: str) -> bool:
        """Remember a numeric value seen in events; True the first time."""
        if (source, key) in self._sensors:
            return False
        self._sensors.add((source, key))
        return True

    @property
    def sensors(self) -> list[tuple[str, str]]:
        return sorted(self._sensors)

    def sensor(self, source: str, key: str, owner: Device | None) -> Message:
        unit, device_class = None, None
        for suffix, u, dc in UNITS:
            if key.endswith(suffix):
                unit, device_class = u, dc
                break
        device = (
            self._device(owner.address, owner.name, owner.kind, owner.vendor)
            if owner is not None
            else self._device(source, None, "device", None)
        )
        config: dict[str, Any] = {
            **self._common(f"{source}:sensor:{key}", f"{source} {key}", device),
            "state_topic": self.topics.telemetry(source),
            "value_template": f"{{{{ value_json.{key} }}}}",
            "state_class": "measurement",
        }
        if unit is not None:
            config["unit_of_measurement"] = unit
        if device_class is not None:
            config["device_class"] = device_class
        return self._message("sensor", object_id(source, key), config)

    def _message(self, component: str, oid: str, config: dict[str, Any]) -> Message:
        payload = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
        return Message(self.topic(component, oid), payload, retain=True)

    def changes(self, messages: list[Message]) -> list[Message]:
        """Of these configs, the ones not yet published with the same content."""
        return [m for m in messages if self._published.get(m.topic) != m.payload]

    def published(self, message: Message) -> None:
        self._published[message.topic] = message.payload


def _shown(device: Device | None) -> tuple[str, str | None, str, str | None] | None:
    """What a config shows of its device; not its status or last_seen, which change every
    second on a busy panel."""
    if device is None:
        return None
    return device.address, device.name, device.kind, device.vendor
