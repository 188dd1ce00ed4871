"""The connector passes the plugin kit (it starts its own mosquitto for the exercise)."""

from __future__ import annotations

from typing import Any

from plugins.mqtt.plugin import MqttPlugin


async def test_passes_the_conformance_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(MqttPlugin)
    assert report.ok, report.render()
    drop = report.get("transport.drop")
    assert drop.status.value == "pass", "a real connection was cut and came back"
    assert report.get("leaks.sockets").status.value == "pass"
