"""A gateway with the MQTT connector in this process, and a platform that listens on MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk.discovery import discover
from plugins.mqtt.plugin import MqttPlugin
from tests.host.plugins import PanelPlugin

WAIT_S = 60.0
"""Generous: the machine may be slow and loaded."""


def gateway_for(
    tmp_path: Path, mqtt: dict[str, Any], *, panel: bool = False, areas: str = ""
) -> Gateway:
    # Tests journal events before the connector's first start and expect them delivered.
    mqtt = {"history": True, **mqtt}
    entries = [{"id": "mqtt", "plugin": "mqtt", "config": mqtt}]
    if panel:
        entries.append({"id": "panel", "plugin": "panel"})
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\nplugins:\n" + "".join(f"  - {json.dumps(e)}\n" for e in entries) + areas
    )
    installed = discover(extra=[PanelPlugin])
    loaded = load_config(cfg, installed.classes)
    return Gateway(loaded, installed, data_dir=tmp_path / "data", backoff_initial_s=0.05)


@contextlib.asynccontextmanager
async def running(gw: Gateway) -> AsyncIterator[Gateway]:
    await gw.start()
    try:
        for _ in range(int(WAIT_S * 20)):
            if all(r.status.state is InstanceState.RUNNING for r in gw.runners.values()):
                break
            await asyncio.sleep(0.05)
        yield gw
    finally:
        await gw.stop()


def connector(gw: Gateway) -> MqttPlugin:
    plugin = gw.runners["mqtt"].plugin
    assert isinstance(plugin, MqttPlugin)
    return plugin


def intrusion(n: int, source: str = "hq/panel-1/zone-1", **fields: Any) -> Event:
    return Event(
        kind="intrusion",
        phase=Phase.ALARM if n % 2 == 0 else Phase.RESTORE,
        priority=1,
        source=source,
        text=f"event {n}",
        data={"n": n},
        **fields,
    )


def armed_stay() -> Event:
    """The test panel arms its area 1 (the vault in the tests' config) in stay mode."""
    return Event(
        kind="arming.armed",
        phase=Phase.STATUS,
        priority=4,
        source="hq/panel-1",
        area="1",
        data={"mode": "stay"},
    )


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    properties: Any = None

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Platform:
    """An MQTT client on the broker, recording everything under the given filters.

    ``persistent``: a v3.1.1 session that outlives the connection (clean_session false, fixed
    id, QoS 1), reconnecting by itself — so what the broker queued while it was away arrives.
    """

    port: int
    filters: tuple[str, ...] = ("anfang/#",)
    protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5
    persistent: bool = False
    messages: list[Received] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    """Ids of the events received so far (kept as they arrive: checks stay cheap)."""
    client: aiomqtt.Client | None = None
    _task: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def _make(self) -> aiomqtt.Client:
        if self.persistent:
            return aiomqtt.Client(
                "127.0.0.1",
                self.port,
                identifier=f"platform-{self.port}",
                protocol=aiomqtt.ProtocolVersion.V311,
                clean_session=False,
            )
        return aiomqtt.Client("127.0.0.1", self.port, protocol=self.protocol)

    async def __aenter__(self) -> Platform:
        self._task = asyncio.create_task(self._run())
        async with asyncio.timeout(WAIT_S):
            await self._ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                async with self._make() as client:
                    self.client = client
                    for f in self.filters:
                        await client.subscribe(f, qos=1)
                    self._ready.set()
                    async for m in client.messages:
                        payload = m.payload if isinstance(m.payload, bytes) else b""
                        received = Received(m.topic.value, payload, m.retain, m.properties)
                        self.messages.append(received)
                        if "/events/" in received.topic:
                            self.ids.add(received.json()["id"])
                        self._arrived.set()
            except aiomqtt.MqttError:
                self.client = None
                if not self.persistent and self._ready.is_set():
                    return
                await asyncio.sleep(0.1)

    async def publish(self, topic: str, payload: bytes, **kw: Any) -> None:
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1, **kw)

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = WAIT_S
    ) -> list[Received]:
        async with asyncio.timeout(timeout):
            while not predicate(self.messages):
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages

    def under(self, prefix: str) -> list[Received]:
        return [m for m in self.messages if m.topic.startswith(prefix)]

    def events(self) -> list[dict[str, Any]]:
        return [m.json() for m in self.under("anfang/events/")]


def check_complete_and_ordered(events: list[dict[str, Any]], expected_ids: list[str]) -> int:
    """Every expected event arrived; in first-arrival order they are in journal order; any
    repeat is a real repeat (same id, same content). Returns the number of repeats."""
    first: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    repeats = 0
    for event in events:
        if event["id"] in first:
            assert first[event["id"]] == event, "a repeat must be the same event"
            repeats += 1
            continue
        first[event["id"]] = event
        order.append(event["id"])
    wanted = set(expected_ids)
    missing = [i for i in expected_ids if i not in first]
    assert not missing, f"{len(missing)} events never arrived, first {missing[:3]}"
    mine = [i for i in order if i in wanted]
    assert mine == expected_ids, "events arrived out of journal order"
    seqs = [first[i]["seq"] for i in mine]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    return repeats


async def eventually(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Wait until ``condition()`` holds (checked every 20 ms), failing after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the state lives in another task's counters
            await asyncio.sleep(0.02)
