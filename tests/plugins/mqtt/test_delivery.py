"""The feed through a real mosquitto: topics, payloads, retained state, PUBACK-driven cursor,
and a broker that goes away mid-stream."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.journal import Journal, JournalReader
from gateway.model.event import Event
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import (
    Platform,
    armed_stay,
    check_complete_and_ordered,
    connector,
    eventually,
    gateway_for,
    intrusion,
    running,
)

AREAS = "areas:\n  - {name: vault, device: hq/panel-1, local_id: '1', title: Vault}\n"


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_events_and_retained_state_on_their_topics(
    tmp_path: Path, broker: Broker, protocol: str
) -> None:
    gw = gateway_for(
        tmp_path,
        {"port": broker.port, "protocol": protocol, "head_interval_s": 0.2},
        panel=True,
        areas=AREAS,
    )
    async with running(gw), Platform(broker.port) as platform:
        await connector(gw).connected.wait()
        sent = [
            intrusion(0),
            Event(kind="trouble.ac_loss", phase="alarm", priority=3, source="hq/panel-1"),
        ]
        seqs = [await gw.journal.append(e) for e in sent]
        await platform.wait_for(
            lambda ms: {e.id for e in sent} <= {m.json()["id"] for m in ms if "/events/" in m.topic}
        )
        by_id = {m.json()["id"]: m for m in platform.under("anfang/events/")}
        zone = by_id[sent[0].id]
        assert zone.topic == "anfang/events/intrusion/hq/panel-1/zone-1"
        assert zone.json()["seq"] == seqs[0] and zone.json()["text"] == "event 0"
        assert by_id[sent[1].id].topic == "anfang/events/trouble/ac_loss/hq/panel-1"
        assert Event.model_validate(zone.json()).model_copy(update={"seq": None}) == sent[0]

        # retained state: a fresh subscriber gets it straight from the broker
        async with Platform(broker.port) as late:
            await late.wait_for(
                lambda ms: (
                    {
                        "anfang/gateway/status",
                        "anfang/journal/head",
                        "anfang/areas/hq/vault/state",
                        "anfang/devices/hq/panel-1/status",
                    }
                    <= {m.topic for m in ms}
                )
            )
            latest = {m.topic: m for m in late.messages}
        assert latest["anfang/gateway/status"].payload == b"online"
        assert latest["anfang/gateway/status"].retain
        area = latest["anfang/areas/hq/vault/state"].json()
        assert area["area"] == "hq/vault" and area["arming"] == "unknown"
        assert latest["anfang/devices/hq/panel-1/status"].json()["kind"] == "panel"
        head = latest["anfang/journal/head"].json()
        reader = JournalReader.open(tmp_path / "data")
        try:
            record = reader.get(head["seq"])
            assert record is not None and record.hash.hex() == head["hash"]
        finally:
            reader.close()


async def test_area_state_follows_a_panel_arming(tmp_path: Path, broker: Broker) -> None:
    gw = gateway_for(tmp_path, {"port": broker.port}, panel=True, areas=AREAS)
    async with running(gw), Platform(broker.port, ("anfang/areas/#",)) as platform:
        await gw.journal.append(armed_stay())
        await platform.wait_for(lambda ms: any(m.json()["arming"] == "stay" for m in ms))


async def test_cursor_moves_only_over_acknowledged_records(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", persist=True).start()
    try:
        # the platform's session (and its subscription) outlives the broker's restart
        async with Platform(broker.port, ("anfang/events/#",), persistent=True) as platform:
            broker.stop()  # now nothing can be acknowledged
            gw = gateway_for(
                tmp_path, {"port": broker.port, "reconnect_min_s": 0.05, "reconnect_max_s": 0.5}
            )
            async with running(gw):
                plugin = connector(gw)
                assert plugin.delivery is not None
                before = plugin.delivery.consumer.committed
                sent = [intrusion(i) for i in range(50)]
                last = 0
                for e in sent:
                    last = await gw.journal.append(e)
                await eventually(lambda: plugin.ctx.counters["connection_errors"] >= 2)
                assert plugin.delivery.consumer.committed == before, "no PUBACK, no commit"
                broker.start()
                ids = [e.id for e in sent]
                await platform.wait_for(lambda _: set(ids) <= platform.ids)
                delivery = plugin.delivery
                await eventually(lambda: delivery.consumer.committed >= last)
                check_complete_and_ordered(platform.events(), ids)
    finally:
        broker.stop()


async def test_broker_stopped_mid_stream_and_restarted(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", persist=True).start()
    gw = gateway_for(
        tmp_path, {"port": broker.port, "reconnect_min_s": 0.05, "reconnect_max_s": 0.5}
    )
    sent: list[Event] = []
    try:
        async with running(gw), Platform(broker.port, ("anfang/events/#",), persistent=True) as p:
            plugin = connector(gw)

            async def produce(n: int) -> None:
                for i in range(n):
                    event = intrusion(len(sent))
                    sent.append(event)
                    await gw.journal.append(event)
                    if i % 20 == 0:
                        await asyncio.sleep(0.01)

            producer = asyncio.create_task(produce(3000))
            await p.wait_for(lambda ms: len(ms) >= 300)
            broker.stop()  # mid-stream: the connector has records out in its window
            await asyncio.sleep(1.0)
            broker.start()
            await producer
            ids = [e.id for e in sent]
            await p.wait_for(lambda _: set(ids) <= p.ids)
            check_complete_and_ordered(p.events(), ids)
            assert plugin.ctx.counters["connects"] >= 2, "it reconnected by itself"
            assert gw.runners["mqtt"].status.restarts == 0, "a lost broker is not a fault"
    finally:
        broker.stop()


async def test_publish_refused_by_an_unreachable_broker_never_faults(tmp_path: Path) -> None:
    """A port nobody listens on: errors, counted, retried; the instance never fails."""
    gw = gateway_for(tmp_path, {"port": 1, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2})
    async with running(gw):
        plugin = connector(gw)
        await eventually(lambda: plugin.ctx.counters["connection_errors"] >= 3)
        assert gw.runners["mqtt"].status.restarts == 0
        assert not plugin.connected.is_set()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_two_gateways_share_a_broker_under_their_own_prefixes(
    tmp_path: Path, broker: Broker, protocol: str
) -> None:
    gateways = []
    for n in (0, 1):
        d = tmp_path / str(n)
        d.mkdir()
        config = {
            "port": broker.port,
            "protocol": protocol,
            "client_id": f"gw-{n}",
            "topic_prefix": f"site{n}",
        }
        gateways.append(gateway_for(d, config))
    platform = Platform(broker.port, ("site0/events/#", "site1/events/#"))
    async with running(gateways[0]), running(gateways[1]), platform as p:
        events = [intrusion(0), intrusion(1)]
        for gw, event in zip(gateways, events, strict=True):
            await gw.journal.append(event)
        ids = {e.id for e in events}
        received = await p.wait_for(lambda _: ids <= p.ids)
        topics = {m.json()["id"]: m.topic for m in received}
        assert topics[events[0].id].startswith("site0/events/intrusion/")
        assert topics[events[1].id].startswith("site1/events/intrusion/")


async def test_a_full_window_does_not_flood_the_log_with_aiomqtt_warnings(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """aiomqtt warns once per publish beyond 10 pending calls unless told the window is wanted."""
    caplog.set_level(logging.WARNING, logger="mqtt")
    gw = gateway_for(tmp_path, {"port": broker.port})
    async with running(gw):
        plugin = connector(gw)
        await plugin.connected.wait()
        last = 0
        for start in range(0, 2000, 500):
            seqs = await gw.journal.append_many([intrusion(i) for i in range(start, start + 500)])
            last = seqs[-1]
        delivery = plugin.delivery
        assert delivery is not None
        await eventually(lambda: delivery.consumer.committed >= last)
        assert delivery.window.high_water > 10, "the window was really used"
    assert not [r for r in caplog.records if "pending publish" in r.getMessage()]


async def test_a_first_start_begins_at_the_head_unless_history_is_asked_for(
    tmp_path: Path, broker: Broker
) -> None:
    """Enabling the connector on a site with months of journal must not flood the broker:
    by default only what is journaled from its first start on is published."""
    old = intrusion(0)
    async with await Journal.open(tmp_path / "data") as journal:
        await journal.append(old)
    gw = gateway_for(tmp_path, {"port": broker.port, "history": False})
    async with running(gw), Platform(broker.port) as platform:
        await connector(gw).connected.wait()
        new = intrusion(1)
        await gw.journal.append(new)
        await platform.wait_for(
            lambda ms: new.id in {m.json()["id"] for m in ms if "/events/" in m.topic}
        )
        published = {m.json()["id"] for m in platform.under("anfang/events/")}
        assert old.id not in published


async def test_publishes_the_broker_refuses_are_counted_and_do_not_stop_the_feed(
    tmp_path: Path,
) -> None:
    """mosquitto's ACL denies one source's topics: an MQTT 5 PUBACK says 'not authorized'. Those
    events are counted as refused, not sent again forever; the events after them still arrive."""
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    acl = workdir / "acl"
    acl.write_text("topic readwrite anfang/#\ntopic deny anfang/events/intrusion/hq/panel-9/#\n")
    broker = Broker(workdir, extra=f"allow_anonymous true\nacl_file {acl}").start()
    try:
        gw = gateway_for(tmp_path, {"port": broker.port})
        async with running(gw), Platform(broker.port, ("anfang/events/#",)) as platform:
            plugin = connector(gw)
            await plugin.connected.wait()
            sent = [
                intrusion(i, source=f"hq/panel-{9 if i % 3 == 0 else 1}/zone-1") for i in range(12)
            ]
            last = (await gw.journal.append_many(sent))[-1]
            delivery = plugin.delivery
            assert delivery is not None
            await eventually(lambda: delivery.consumer.committed >= last)
            allowed = [e.id for e in sent if "panel-1" in e.source]
            await platform.wait_for(lambda _: set(allowed) <= platform.ids)
            assert not platform.ids & {e.id for e in sent if "panel-9" in e.source}
            assert plugin.ctx.counters["events_refused_by_broker"] == 4
            check_complete_and_ordered(platform.events(), allowed)
    finally:
        broker.stop()
