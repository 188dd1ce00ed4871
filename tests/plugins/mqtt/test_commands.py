"""Commands over MQTT through a real mosquitto: a round trip in v5 (response topic and
correlation data) and 3.1.1 (results topic, request_id), the allow rules, malformed payloads.
The panel plugin that carries the commands out is a small real plugin from tests/host."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.journal import Filter, JournalReader
from gateway.model.command import Command, CommandResult
from gateway.model.entities import ArmingState
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import Platform, connector, gateway_for, running

AREAS = "areas:\n  - {name: vault, device: hq/panel-1, local_id: '1'}\n"
COMMANDS = {
    "enabled": True,
    "allow": [
        {"targets": ["hq/vault"], "actions": ["area.*"]},
        {"targets": ["hq/siren-*"], "actions": ["output.pulse"]},
    ],
}


def journaled(data: Path) -> tuple[list[Command], list[CommandResult]]:
    reader = JournalReader.open(data)
    try:
        commands = [r.model for r in reader.query(Filter.build(types=["command"]), limit=1000)]
        results = [r.model for r in reader.query(Filter.build(types=["result"]), limit=1000)]
    finally:
        reader.close()
    return commands, results  # type: ignore[return-value]


async def test_round_trip_over_mqtt_v5_with_response_topic(tmp_path: Path, broker: Broker) -> None:
    gw = gateway_for(tmp_path, {"port": broker.port, "commands": COMMANDS}, panel=True, areas=AREAS)
    async with running(gw), Platform(broker.port, ("replies/me",)) as platform:
        await connector(gw).connected.wait()
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = "replies/me"
        props.CorrelationData = b"corr-42"
        body = {"action": "area.arm", "params": {"mode": "stay"}, "reason": "closing time"}
        await platform.publish(
            "anfang/commands/hq/vault", json.dumps(body).encode(), properties=props
        )
        [reply] = await platform.wait_for(lambda ms: len(ms) >= 1)
        answer = reply.json()
        assert answer["status"] == "ok" and answer["target"] == "hq/vault"
        assert answer["action"] == "area.arm"
        assert reply.properties.CorrelationData == b"corr-42"
        await gw.areas.caught_up(gw.journal.committed_seq)
        assert gw.registry.areas["hq/vault"].arming is ArmingState.STAY
    commands, results = journaled(tmp_path / "data")
    [command] = [c for c in commands if c.action == "area.arm"]
    assert command.issued_by == "mqtt:mqtt" and command.reason == "closing time"
    assert [r.status.value for r in results if r.command_id == command.id] == ["ok"]


async def test_round_trip_over_mqtt_311_on_the_results_topic(
    tmp_path: Path, broker: Broker
) -> None:
    gw = gateway_for(
        tmp_path,
        {"port": broker.port, "protocol": "3.1.1", "commands": COMMANDS},
        panel=True,
        areas=AREAS,
    )
    async with (
        running(gw),
        Platform(
            broker.port, ("anfang/results/#",), protocol=aiomqtt.ProtocolVersion.V311
        ) as platform,
    ):
        await connector(gw).connected.wait()
        await platform.publish(
            "anfang/commands/hq/siren-1",
            b'{"action": "output.pulse", "request_id": "r-1", "timeout_s": 5}',
        )
        [reply] = await platform.wait_for(lambda ms: len(ms) >= 1)
        assert reply.topic == "anfang/results/hq/siren-1"
        answer = reply.json()
        assert (answer["status"], answer["request_id"]) == ("ok", "r-1")


async def test_commands_outside_the_allow_rules_are_denied_and_on_record(
    tmp_path: Path, broker: Broker
) -> None:
    gw = gateway_for(tmp_path, {"port": broker.port, "commands": COMMANDS}, panel=True, areas=AREAS)
    async with running(gw), Platform(broker.port, ("anfang/results/#",)) as platform:
        await connector(gw).connected.wait()
        await platform.publish(
            "anfang/commands/hq/siren-1", b'{"action": "door.unlock", "request_id": "d-1"}'
        )
        await platform.publish(
            "anfang/commands/hq/panel-1/zone-1", b'{"action": "zone.bypass", "request_id": "d-2"}'
        )
        replies = await platform.wait_for(lambda ms: len(ms) >= 2)
        by_id = {r.json()["request_id"]: r.json() for r in replies}
        assert by_id["d-1"]["status"] == "denied"
        assert "does not allow door.unlock on hq/siren-1" in by_id["d-1"]["detail"]
        assert by_id["d-2"]["status"] == "denied"
        assert connector(gw).ctx.counters["commands_denied"] == 2
    commands, results = journaled(tmp_path / "data")
    denied = [r for r in results if r.status.value == "denied"]
    assert len(denied) == 2
    assert {c.id for c in commands if c.issued_by == "mqtt:mqtt"} >= {r.command_id for r in denied}


MALFORMED: list[tuple[str, bytes, str]] = [
    ("anfang/commands/hq/vault", b"", "empty payload"),
    ("anfang/commands/hq/vault", b"{not json", "not JSON"),
    ("anfang/commands/hq/vault", b"\xff\xfe", "not UTF-8"),
    ("anfang/commands/hq/vault", b"[1, 2]", "must be a JSON object"),
    ("anfang/commands/hq/vault", b'{"params": {}}', "'action' is required"),
    ("anfang/commands/hq/vault", b'{"action": 7}', "'action' is required"),
    ("anfang/commands/hq/vault", b'{"action": "Area Arm!"}', "action"),
    ("anfang/commands/hq/vault", b'{"action": "area.arm", "params": []}', "'params' must be"),
    ("anfang/commands/hq/vault", b'{"action": "area.arm", "sudo": true}', "unknown key(s) 'sudo'"),
    ("anfang/commands/hq/vault", b'{"action": "area.arm", "timeout_s": -1}', "'timeout_s'"),
    ("anfang/commands/hq/vault", b"[" * 100_000, "bytes; the limit"),
    ("anfang/commands/hq/vault", b"[" * 10_000, "nested too deeply"),
    ("anfang/commands/hq/vault", b'{"request_id": "' + b"{" * 9000 + b'"}', "'action'"),
    ("anfang/commands/hq", b'{"action": "area.arm"}', "must name a target"),
    ("anfang/commands/hq/vault/x/y", b'{"action": "area.arm"}', "target"),
    ("anfang/commands/hq/b@d", b'{"action": "area.arm"}', "target"),
]


async def test_malformed_payloads_get_an_error_answer_and_nothing_breaks(
    tmp_path: Path, broker: Broker
) -> None:
    gw = gateway_for(tmp_path, {"port": broker.port, "commands": COMMANDS}, panel=True, areas=AREAS)
    async with running(gw), Platform(broker.port, ("anfang/results/#",)) as platform:
        plugin = connector(gw)
        await plugin.connected.wait()
        for topic, payload, _ in MALFORMED:
            await platform.publish(topic, payload)
        replies = await platform.wait_for(lambda ms: len(ms) >= len(MALFORMED))
        answers = sorted((r.json() for r in replies), key=lambda a: a["error"])
        for _, _, expected in MALFORMED:
            match = [a for a in answers if expected in a["error"]]
            assert match, f"no error answer mentions {expected!r}: {answers}"
            assert all(a["status"] == "error" for a in match)
        assert plugin.ctx.counters["commands_malformed"] == len(MALFORMED)
        # still alive and still taking commands
        await platform.publish(
            "anfang/commands/hq/vault", b'{"action": "area.disarm", "request_id": "after"}'
        )
        await platform.wait_for(lambda ms: any(m.json().get("request_id") == "after" for m in ms))
        assert gw.runners["mqtt"].status.restarts == 0
    commands, _ = journaled(tmp_path / "data")
    assert [c.action for c in commands] == ["area.disarm"], "malformed ones never dispatched"


async def test_commands_disabled_means_no_subscription(tmp_path: Path, broker: Broker) -> None:
    gw = gateway_for(tmp_path, {"port": broker.port}, panel=True, areas=AREAS)
    async with running(gw), Platform(broker.port, ("anfang/results/#",)) as platform:
        await connector(gw).connected.wait()
        await platform.publish("anfang/commands/hq/vault", b'{"action": "area.arm"}')
        await asyncio.sleep(1.0)
        assert platform.messages == []
        assert connector(gw).ctx.counters["commands_received"] == 0
    commands, _ = journaled(tmp_path / "data")
    assert commands == []
