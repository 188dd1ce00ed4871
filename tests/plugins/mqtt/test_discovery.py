"""Home Assistant MQTT discovery, checked against HA's documented rules
(https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery and the alarm_control_panel,
binary_sensor and sensor pages): topic shape, required and known keys, device classes, units,
retained configs, and that the command HA sends arms the area."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.model.entities import ArmingState
from gateway.model.event import Event
from plugins.mqtt.discovery import object_id
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import Platform, connector, gateway_for, running

AREAS = "areas:\n  - {name: vault, device: hq/panel-1, local_id: '1', title: Vault}\n"
TOPIC = re.compile(
    r"^homeassistant/(alarm_control_panel|binary_sensor|sensor)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$"
)
COMMON = {
    "name",
    "unique_id",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "device",
    "origin",
    "qos",
    "value_template",
    "state_topic",
    "device_class",
}
KNOWN = {
    "alarm_control_panel": COMMON
    | {
        "command_topic",
        "command_template",
        "supported_features",
        "code_arm_required",
        "code_disarm_required",
        "retain",
    },
    "binary_sensor": COMMON | {"payload_on", "payload_off"},
    "sensor": COMMON | {"unit_of_measurement", "state_class"},
}
REQUIRED = {
    "alarm_control_panel": {"state_topic", "command_topic"},
    "binary_sensor": {"state_topic"},
    "sensor": {"state_topic"},
}
FEATURES = {"arm_home", "arm_away", "arm_night", "arm_vacation", "arm_custom_bypass", "trigger"}
BINARY_CLASSES = {
    "battery",
    "battery_charging",
    "carbon_monoxide",
    "cold",
    "connectivity",
    "door",
    "garage_door",
    "gas",
    "heat",
    "light",
    "lock",
    "moisture",
    "motion",
    "moving",
    "occupancy",
    "opening",
    "plug",
    "power",
    "presence",
    "problem",
    "running",
    "safety",
    "smoke",
    "sound",
    "tamper",
    "update",
    "vibration",
    "window",
}
SENSOR_UNITS = {
    "voltage": "V",
    "current": "A",
    "power": "W",
    "frequency": "Hz",
    "temperature": "°C",
    "duration": "s",
    "battery": "%",
}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "via_device", "sw_version"}


def check_config(topic: str, config: dict[str, Any]) -> str:
    match = TOPIC.fullmatch(topic)
    assert match, f"discovery topic {topic} does not follow <prefix>/<component>/<node>/<id>/config"
    component = match.group(1)
    assert REQUIRED[component] <= set(config), f"{topic}: missing {REQUIRED[component]}"
    assert set(config) <= KNOWN[component], f"{topic}: unknown {set(config) - KNOWN[component]}"
    for key in ("state_topic", "command_topic", "availability_topic"):
        if key in config:
            assert not set(config[key]) & {"#", "+"}, f"{key} must be a topic, not a filter"
    assert set(config["device"]) <= DEVICE_KEYS and config["device"]["identifiers"]
    assert config["availability_topic"] == "anfang/gateway/status"
    if component == "alarm_control_panel":
        assert set(config["supported_features"]) <= FEATURES
    if component == "binary_sensor":
        assert config["device_class"] in BINARY_CLASSES
    if component == "sensor" and "device_class" in config:
        assert config["unit_of_measurement"] == SENSOR_UNITS[config["device_class"]]
    return component


async def test_discovery_configs_follow_home_assistant_rules(
    tmp_path: Path, broker: Broker
) -> None:
    gw = gateway_for(
        tmp_path,
        {
            "port": broker.port,
            "discovery": {"enabled": True},
            "commands": {"enabled": True, "allow": [{"targets": ["hq/*"], "actions": ["area.*"]}]},
        },
        panel=True,
        areas=AREAS,
    )
    async with running(gw):
        await connector(gw).connected.wait()
        await gw.journal.append(
            Event(
                kind="power.on_battery",
                phase="alarm",
                priority=2,
                source="hq/panel-1",
                data={"battery_pct": 87, "input_v": 0.0, "on_battery": True, "note": "x"},
            )
        )
        await gw.journal.append(
            Event(kind="intrusion", phase="alarm", priority=1, source="hq/panel-1/zone-2")
        )
        # a Home Assistant that subscribes later still finds every config (retained)
        async with Platform(
            broker.port, ("homeassistant/#", "anfang/devices/#", "anfang/telemetry/#")
        ) as ha:
            await ha.wait_for(
                lambda ms: len({m.topic for m in ms if m.topic.startswith("homeassistant/")}) >= 6
            )
            await ha.wait_for(
                lambda ms: (
                    {"anfang/devices/hq/panel-1/zone-2/state", "anfang/telemetry/hq/panel-1"}
                    <= {m.topic for m in ms}
                )
            )
            configs = {m.topic: m.json() for m in ha.under("homeassistant/")}
            components = {t: check_config(t, c) for t, c in configs.items()}
            unique_ids = [c["unique_id"] for c in configs.values()]
            assert len(unique_ids) == len(set(unique_ids))
            assert all(m.retain for m in ha.under("homeassistant/"))

            panel = configs[
                f"homeassistant/alarm_control_panel/anfang/{object_id('hq/vault')}/config"
            ]
            assert panel["command_topic"] == "anfang/commands/hq/vault"
            assert panel["state_topic"] == "anfang/areas/hq/vault/state"
            assert sorted(components.values()).count("binary_sensor") == 3  # zones 1-2-3
            sensors = {
                c["value_template"]: c for t, c in configs.items() if components[t] == "sensor"
            }
            assert set(sensors) == {"{{ value_json.battery_pct }}", "{{ value_json.input_v }}"}
            assert sensors["{{ value_json.input_v }}"]["device_class"] == "voltage"
            telemetry = [m.json() for m in ha.under("anfang/telemetry/hq/panel-1")]
            assert telemetry and telemetry[-1]["battery_pct"] == 87
            assert "on_battery" not in telemetry[-1], "booleans are not numeric sensors"
            zone = [m.json() for m in ha.under("anfang/devices/hq/panel-1/zone-2/state")]
            assert zone[-1]["active"] is True

            # what HA's command_template renders for "Arm home" (see discovery.py)
            await ha.publish(
                panel["command_topic"],
                b'{"action": "area.arm", "params": {"mode": "stay"}, "reason": "Home Assistant"}',
            )
        async with Platform(broker.port, ("anfang/areas/hq/vault/state",)) as watcher:
            await watcher.wait_for(lambda ms: any(m.json()["arming"] == "stay" for m in ms))
        assert gw.registry.areas["hq/vault"].arming is ArmingState.STAY


def test_object_ids_are_safe_and_distinct() -> None:
    assert object_id("hq/panel-1/zone-2") == "hq_panel-1_zone-2"
    dotted, underscored = object_id("hq/a.b"), object_id("hq/a_b")
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", dotted) and dotted != underscored
