"""The MQTT connector: the journal north to a broker, commands back, Home Assistant discovery.

One connection at a time (aiomqtt has no reconnect of its own): connect, announce ``online``
(retained; the Last Will says ``offline``), then three things until the connection breaks —
deliver the feed from the durable cursor, keep the retained state topics current, and take
commands — then wait a jittered backoff and start over. The journal is the backlog, so a
broker outage or a gateway crash costs nothing but repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any, ClassVar

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.journal import Filter
from gateway.model.command import Command, CommandResult
from gateway.model.entities import Area, Device
from gateway.model.kinds import KindSpec, Phase
from gateway.sdk import Plugin, PluginContext, SiteView
from plugins.mqtt.backoff import Backoff
from plugins.mqtt.commands import Answer, CommandHandler
from plugins.mqtt.config import MqttConfig
from plugins.mqtt.conformance import CONFORMANCE
from plugins.mqtt.connection import OFFLINE, ONLINE, client_for, reachable, tls_context
from plugins.mqtt.delivery import Backlog, Delivery, Message
from plugins.mqtt.discovery import Discovery
from plugins.mqtt.kinds import BACKLOG, KINDS, SKIPPED
from plugins.mqtt.payloads import head_payload
from plugins.mqtt.state import RetainedState
from plugins.mqtt.topics import Topics

CURSOR = "feed"
STABLE_AFTER_S = 10.0
"""A connection that lasted this long resets the reconnect backoff."""
STOP_PUBLISH_S = 2.0
"""How long ``stop`` waits for the broker to take the retained ``offline``."""


class MqttPlugin(Plugin[MqttConfig]):
    name = "mqtt"
    version = "0.1.0"
    description = (
        "MQTT connector: canonical events (QoS 1, at least once, in order), retained device, "
        "area and journal-head state, commands, Home Assistant discovery"
    )
    protocols = ("mqtt-5", "mqtt-3.1.1")
    Config = MqttConfig
    device_kinds = ("connector",)
    kinds: ClassVar[tuple[KindSpec, ...]] = KINDS
    conformance = CONFORMANCE

    def __init__(self, config: MqttConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.topics = Topics(config.topic_prefix)
        self.address = f"{ctx.site}/{ctx.instance_id}"
        self.issuer = f"mqtt:{ctx.instance_id}"
        self.client_id = config.client_id or f"anfang-{ctx.site}-{ctx.instance_id}"
        self.retained = RetainedState(self.topics)
        self._site = SiteView()
        """The site as the registry had it at the last state pass (one read per pass, the same
        inline and in a child, where the registry's own dicts hold only this instance's)."""
        self.discovery = (
            Discovery(self.topics, config.discovery.prefix, ctx.site, self.version)
            if config.discovery.enabled
            else None
        )
        self.commands = CommandHandler(
            config.commands,
            self.topics,
            self.issuer,
            ctx.dispatch,
            self._record_denied,
            ctx.counters,
        )
        self._command_slots = asyncio.Semaphore(config.commands.max_concurrent)
        self._tls: ssl.SSLContext | None = None
        self.client: aiomqtt.Client | None = None
        self.delivery: Delivery | None = None
        self.connected = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self.ctx.registry.upsert_device(
            self.address, kind="connector", plugin=self.ctx.instance_id, name="MQTT connector"
        )
        if self.config.tls is not None:
            self._tls = await asyncio.to_thread(tls_context, self.config.tls)
        flt = Filter.build(kinds=self.config.kinds, sources=self.config.sources)
        consumer = self.ctx.subscribe(
            flt, cursor=CURSOR, new_cursor_start="beginning" if self.config.history else "head"
        )
        journal = getattr(self.ctx, "journal", None)
        head = (lambda: journal.committed_seq) if journal is not None else (lambda: 0)
        b = self.config.backlog
        self.delivery = Delivery(
            consumer,
            self.topics,
            self.config.window,
            Backlog(b.max_records, b.max_age_s, head),
            self.ctx.counters,
            point_state=self.discovery is not None,
            on_telemetry=self._telemetry_seen,
        )
        self.ctx.spawn(self._run(), name="link")
        self.ctx.spawn(self._watch_backlog(), name="backlog")
        self.ctx.log.info(
            "mqtt connector starting",
            broker=f"{self.config.host}:{self.config.port}",
            protocol=self.config.protocol,
            tls=self.config.tls is not None,
            window=self.config.window,
            cursor_at=consumer.committed,
        )

    async def stop(self) -> None:
        """Say ``offline`` ourselves: the Last Will is only sent for an unclean disconnect."""
        if self.delivery is not None:
            self.delivery.flush()  # what the broker acknowledged is not sent again
        client = self.client
        if client is not None and self.connected.is_set():
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await client.publish(
                    self.topics.gateway_status, OFFLINE, qos=1, retain=True, timeout=STOP_PUBLISH_S
                )

    # -- the connection --------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s)
        connected_at = -float("inf")
        while True:
            try:
                await reachable(self.config.host, self.config.port, self.config.keepalive_s)
                client = client_for(
                    self.config,
                    self.client_id,
                    self.topics.gateway_status,
                    self._tls,
                    self.config.commands.max_concurrent,
                )
                async with client:
                    self.client = client
                    connected_at = time.monotonic()
                    self.ctx.counters["connects"] += 1
                    self.ctx.log.info("connected to the broker", client_id=self.client_id)
                    await self._session(client)
            except (aiomqtt.MqttError, OSError) as exc:
                self._lost(exc)
            except ExceptionGroup as group:
                _, rest = group.split((aiomqtt.MqttError, OSError))
                if rest is not None:
                    self.ctx.log.error("connector failed", exc_info=rest)
                    raise rest from None
                self._lost(group.exceptions[0])
            finally:
                self.connected.clear()
                self.client = None
                if self.delivery is not None:
                    self.delivery.flush()
            if time.monotonic() - connected_at >= STABLE_AFTER_S:
                backoff.reset()  # a flapping connection keeps backing off
            delay = backoff.next_delay()
            self.ctx.counters["reconnect_waits"] += 1
            await asyncio.sleep(delay)

    def _lost(self, exc: BaseException) -> None:
        self.ctx.counters["connection_errors"] += 1
        self.ctx.log.warning(
            "broker connection failed or lost; the journal keeps the backlog",
            error=f"{type(exc).__name__}: {exc}",
            broker=f"{self.config.host}:{self.config.port}",
        )

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.publish(self.topics.gateway_status, ONLINE, qos=1, retain=True)
        if self.config.commands.enabled:
            granted = await client.subscribe(self.topics.commands_filter, qos=1)
            if any(_refused(code) for code in granted):
                self.ctx.counters["subscribe_refused"] += 1
                self.ctx.log.error(
                    "the broker refused the command subscription (check its ACL)",
                    topic=self.topics.commands_filter,
                )
        self.retained.forget()
        if self.discovery is not None:
            self.discovery.forget()
        self.connected.set()
        assert self.delivery is not None
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.delivery.run(client), name=f"{self.ctx.instance_id}:deliver")
            tasks.create_task(self._listen(client), name=f"{self.ctx.instance_id}:listen")
            tasks.create_task(self._keep_state(client), name=f"{self.ctx.instance_id}:state")

    # -- commands --------------------------------------------------------------------------------

    async def _listen(self, client: aiomqtt.Client) -> None:
        """Take command messages; also notices a dead connection when nothing else is sent."""
        async for message in client.messages:
            if not self.config.commands.enabled:
                continue
            payload = message.payload if isinstance(message.payload, bytes) else b""
            props = message.properties
            response = getattr(props, "ResponseTopic", None) if props is not None else None
            correlation = getattr(props, "CorrelationData", None) if props is not None else None
            self.ctx.spawn(
                self._command(message.topic.value, payload, response, correlation),
                name="command",
            )

    async def _command(
        self, topic: str, payload: bytes, response: str | None, correlation: bytes | None
    ) -> None:
        async with self._command_slots:
            try:
                answer = await self.commands.handle(topic, payload, response, correlation)
            except Exception as exc:  # a journal fault: answer it, keep the connector running
                self.ctx.counters["command_errors"] += 1
                self.ctx.log.error("command could not be handled", topic=topic, error=repr(exc))
                return
            await self._answer(answer)

    async def _answer(self, answer: Answer) -> None:
        client = self.client
        if client is None or not self.connected.is_set():
            self.ctx.counters["answers_lost"] += 1
            return
        props = None
        if answer.correlation is not None and self.config.protocol == "5":
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.CorrelationData = answer.correlation
        try:
            await client.publish(answer.topic, answer.payload, qos=1, properties=props)
        except aiomqtt.MqttError:
            self.ctx.counters["answers_lost"] += 1

    async def _record_denied(self, command: Command, result: CommandResult) -> None:
        """A refused command is on record like any other: the command, then its result."""
        journal = getattr(self.ctx, "journal", None)
        if journal is None:
            self.ctx.log.warning("denied command", target=command.target, action=command.action)
            return
        await journal.append(command)
        await journal.append(result)

    # -- retained state --------------------------------------------------------------------------

    async def _keep_state(self, client: aiomqtt.Client) -> None:
        last_head = -float("inf")
        while True:
            assert self.delivery is not None
            stalled = self.delivery.stalled_s()
            if stalled > self.config.publish_timeout_s:
                self.ctx.counters["puback_timeouts"] += 1
                raise aiomqtt.MqttError(f"no PUBACK for {stalled:.0f} s; reconnecting")
            self._site = await self.ctx.registry.site_view()
            messages = self.retained.changes(self._devices(), self._areas())
            await self._publish_all(client, messages, self.retained.published)
            if self.discovery is not None:
                configs = self.discovery.changes(self._discovery_configs())
                await self._publish_all(client, configs, self.discovery.published)
            journal = getattr(self.ctx, "journal", None)
            if journal is not None and time.monotonic() - last_head >= self.config.head_interval_s:
                last_head = time.monotonic()
                payload = head_payload(journal.head(), self.ctx.clock.now())
                await client.publish(self.topics.journal_head, payload, qos=1, retain=True)
            await asyncio.sleep(self.config.state_interval_s)

    async def _publish_all(
        self, client: aiomqtt.Client, messages: list[Message], done: Any
    ) -> None:
        for start in range(0, len(messages), self.config.window):
            chunk = messages[start : start + self.config.window]
            await asyncio.gather(
                *(client.publish(m.topic, m.payload, qos=1, retain=m.retain) for m in chunk)
            )
            for m in chunk:
                done(m)

    def _devices(self) -> list[Device]:
        return list(self._site.devices.values())

    def _areas(self) -> list[Area]:
        return list(self._site.areas.values())

    def _discovery_configs(self) -> list[Message]:
        assert self.discovery is not None
        return self.discovery.configs(self._site)

    def _telemetry_seen(self, source: str, values: dict[str, float]) -> list[Message]:
        """New numeric values announce their sensor before their first reading."""
        if self.discovery is None:
            return []
        owner = self._site.devices.get("/".join(source.split("/")[:2]))
        out = []
        for key in values:
            if self.discovery.note_sensor(source, key):
                config = self.discovery.sensor(source, key, owner)
                self.discovery.published(config)
                out.append(config)
        return out

    # -- backlog ---------------------------------------------------------------------------------

    async def _watch_backlog(self) -> None:
        b = self.config.backlog
        alarmed = bool(self.ctx.state.get("backlog_alarm", False))
        while True:
            await asyncio.sleep(b.check_s)
            records, age_s = self.backlog()
            share = max(records / b.max_records, age_s / b.max_age_s)
            detail = {"records": records, "age_s": round(age_s, 1), "share": round(share, 3)}
            if not alarmed and share >= b.warn_ratio:
                alarmed = True
                await self._publish_own(BACKLOG.name, Phase.ALARM, detail, "backlog near its bound")
            elif alarmed and share < b.warn_ratio / 2:
                alarmed = False
                await self._publish_own(BACKLOG.name, Phase.RESTORE, detail, "backlog drained")
            self.ctx.state.set("backlog_alarm", alarmed)
            delivery = self.delivery
            if delivery is not None and delivery.skipped_unreported:
                skipped, delivery.skipped_unreported = delivery.skipped_unreported, 0
                await self._publish_own(
                    SKIPPED.name,
                    Phase.MOMENTARY,
                    {"skipped": skipped},
                    f"{skipped} record(s) beyond the backlog bound were not published",
                )

    def backlog(self) -> tuple[int, float]:
        """(records after the cursor, age in seconds of the oldest of them)."""
        journal = getattr(self.ctx, "journal", None)
        delivery = self.delivery
        if journal is None or delivery is None:
            return 0, 0.0
        committed = delivery.consumer.committed
        records = max(0, journal.committed_seq - committed)
        if records == 0:
            return 0, 0.0
        oldest = delivery.oldest_pending_ts_us
        if oldest is None:
            record = journal.reader.get(committed + 1)
            oldest = record.ts_us if record is not None else None
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest / 1e6)
        return records, age

    async def _publish_own(self, kind: str, phase: Phase, data: dict[str, Any], text: str) -> None:
        try:
            await self.ctx.publish(self.ctx.event(kind, self.address, phase, text=text, data=data))
        except Exception as exc:  # the journal reports its own faults; keep watching
            self.ctx.log.error("could not journal", kind=kind, error=repr(exc))


def _refused(code: object) -> bool:
    """A SUBACK code of 0x80 or more (v3.1.1 int, v5 ReasonCode) means no subscription."""
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80
