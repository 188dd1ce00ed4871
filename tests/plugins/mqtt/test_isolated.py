"""The connector with ``isolation: process`` against a real mosquitto: what it mirrors of the
site and of the journal is the same as inline.

In a child the registry's own dicts hold only this instance's devices, and there was no
``ctx.journal``: other plugins' device status, area arming state and zone discovery were never
published, nor the chain head, and a denied command was only logged. The connector now reads
the site through ``ctx.registry.site_view()`` and the journal through the child's view."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.config.loader import load_config
from gateway.host import Gateway
from gateway.host.process import IsolatedPlugin
from gateway.journal import Filter
from gateway.sdk.discovery import discover
from tests.host.plugins import PanelPlugin
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import Platform, armed_stay, eventually, running


def isolated_gateway(tmp_path: Path, broker: Broker) -> Gateway:
    mqtt = {
        "port": broker.port,
        "head_interval_s": 0.2,
        "state_interval_s": 0.2,
        "discovery": {"enabled": True},
        "commands": {
            "enabled": True,
            "allow": [{"targets": ["hq/siren-*"], "actions": ["output.pulse"]}],
        },
    }
    entry = {"id": "mqtt", "plugin": "mqtt", "isolation": "process", "config": mqtt}
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\n"
        "areas:\n  - {name: vault, device: hq/panel-1, local_id: '1', title: Vault}\n"
        "plugins:\n  - {id: panel, plugin: panel}\n"
        f"  - {json.dumps(entry)}\n"
    )
    installed = discover(extra=[PanelPlugin])
    return Gateway(
        load_config(cfg, installed.classes),
        installed,
        data_dir=tmp_path / "data",
        backoff_initial_s=0.05,
    )


async def test_an_isolated_connector_mirrors_the_site_and_the_journal(
    tmp_path: Path, broker: Broker
) -> None:
    gw = isolated_gateway(tmp_path, broker)
    topics = ("anfang/#", "homeassistant/#")
    async with running(gw), Platform(broker.port, topics) as platform:
        assert isinstance(gw.runners["mqtt"].plugin, IsolatedPlugin)

        def has(topic: str) -> bool:
            return any(m.topic == topic for m in platform.messages)

        await eventually(lambda: has("anfang/journal/head"))
        await eventually(lambda: has("anfang/devices/hq/panel-1/status"))  # another instance's

        def zones() -> int:
            prefix = "homeassistant/binary_sensor/"
            return len({m.topic for m in platform.messages if m.topic.startswith(prefix)})

        await eventually(lambda: zones() == 3)  # the panel's three zones
        await gw.journal.append(armed_stay())
        await platform.wait_for(
            lambda ms: any(
                m.topic == "anfang/areas/hq/vault/state" and m.json()["arming"] == "stay"
                for m in ms
            )
        )
        await platform.publish(
            "anfang/commands/hq/siren-1", b'{"action": "door.unlock", "request_id": "d-1"}'
        )

        def denied() -> list[str]:
            results = gw.journal.reader.query(Filter.build(types=["result"]), limit=10)
            return [r.model.status.value for r in results]  # type: ignore[union-attr]

        await eventually(lambda: denied() == ["denied"])
