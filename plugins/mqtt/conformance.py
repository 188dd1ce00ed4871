"""How the conformance kit runs the connector: against a real mosquitto on 127.0.0.1.

The example config names a port picked when this module loads; the exercise starts
``mosquitto`` there (the first time) and acts as a platform: it waits for the retained
``online``, for the feed, and sends a malformed command that must get an error answer. The
broker stays up for the kit's later checks (the connection drop, the restart) and is stopped,
its config folder removed, when the process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiomqtt

from gateway.model.kinds import Phase
from gateway.sdk import ConformanceSpec, Plugin

MOSQUITTO = "mosquitto"
_brokers: dict[int, subprocess.Popen[bytes]] = {}
_homes: list[Path] = []
"""The brokers' config folders, removed with them (each run left one in the temp folder)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_brokers() -> None:
    for proc in _brokers.values():
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _brokers.clear()
    for home in _homes:
        shutil.rmtree(home, ignore_errors=True)
    _homes.clear()


def start_broker(port: int) -> subprocess.Popen[bytes]:
    """mosquitto on 127.0.0.1:port, anonymous, no persistence (kept until the process exits)."""
    running = _brokers.get(port)
    if running is not None and running.poll() is None:
        return running
    binary = shutil.which(MOSQUITTO) or shutil.which(MOSQUITTO, path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise RuntimeError("the MQTT conformance exercise needs mosquitto (apt install mosquitto)")
    home = Path(tempfile.mkdtemp(prefix="anfang-kit-mqtt-"))
    _homes.append(home)
    conf = home / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if not _brokers:
        atexit.register(_stop_brokers)
    _brokers[port] = proc
    return proc


async def _connect(port: int) -> aiomqtt.Client:
    for _ in range(200):
        client = aiomqtt.Client("127.0.0.1", port, identifier=f"kit-platform-{port}")
        try:
            await client.__aenter__()
            return client
        except aiomqtt.MqttError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"mosquitto did not accept connections on 127.0.0.1:{port}")


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.mqtt.plugin import MqttPlugin

    if not isinstance(plugin, MqttPlugin):
        raise TypeError("the exercise needs a running MQTT connector")
    port = plugin.config.port
    start_broker(port)
    client = await _connect(port)
    topics = plugin.topics
    seen: set[str] = set()

    async def read() -> None:
        async for message in client.messages:
            topic = message.topic.value
            body = message.payload if isinstance(message.payload, bytes) else b""
            if topic == topics.gateway_status and body == b"online":
                seen.add("online")
            elif topic.startswith(f"{topics.prefix}/events/"):
                if json.loads(body).get("id") == event.id:
                    seen.add("event")
            elif topic.startswith(f"{topics.prefix}/results/"):
                answer = json.loads(body)
                if answer.get("status") != "error" or "not JSON" not in answer.get("error", ""):
                    raise AssertionError(f"malformed command answered with {answer}")
                seen.add("error answer")
            if len(seen) == 3:
                return

    try:
        await client.subscribe(f"{topics.prefix}/#", qos=1)
        await asyncio.wait_for(plugin.connected.wait(), 20)
        event = plugin.ctx.event(
            "test.manual", plugin.address, Phase.MOMENTARY, text="conformance kit: delivery"
        )
        await plugin.ctx.publish(event)
        await client.publish(topics.command(f"{plugin.ctx.site}/nowhere"), b"{not json", qos=1)
        try:
            await asyncio.wait_for(read(), 20)
        except TimeoutError:
            missing = {"online", "event", "error answer"} - seen
            raise AssertionError(f"not seen within 20 s: {', '.join(sorted(missing))}") from None
    finally:
        await client.__aexit__(None, None, None)


CONFORMANCE = ConformanceSpec(
    example_config={
        "host": "127.0.0.1",
        "port": _free_port(),
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 1.0,
        "commands": {"enabled": True, "allow": [{"targets": ["*"], "actions": ["output.*"]}]},
        "discovery": {"enabled": True},
    },
    exercise=exercise,
    run_s=1.0,
)
