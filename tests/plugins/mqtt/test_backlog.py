"""The backlog bound: an alarm before it is reached, the oldest records skipped past it (they
stay in the journal), the restore once the connector has caught up."""

from __future__ import annotations

from pathlib import Path

from gateway.journal import Filter, JournalReader
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import (
    Platform,
    connector,
    eventually,
    gateway_for,
    intrusion,
    running,
)


async def test_alarm_before_the_bound_skip_past_it_restore_after(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", persist=True).start()
    try:
        async with Platform(broker.port, ("anfang/events/#",), persistent=True) as platform:
            broker.stop()
            gw = gateway_for(
                tmp_path,
                {
                    "port": broker.port,
                    "reconnect_min_s": 0.05,
                    "reconnect_max_s": 0.3,
                    "backlog": {"max_records": 40, "warn_ratio": 0.5, "check_s": 0.1},
                },
            )
            async with running(gw):
                plugin = connector(gw)
                sent = [intrusion(i) for i in range(60)]
                for event in sent:
                    await gw.journal.append(event)

                def journaled(kind: str, phase: str | None = None) -> int:
                    reader = JournalReader.open(tmp_path / "data")
                    try:
                        found = reader.query(Filter.build(kinds=[kind]), limit=100)
                    finally:
                        reader.close()
                    return sum(1 for r in found if phase is None or r.phase == phase)

                await eventually(lambda: journaled("mqtt.backlog", "alarm") == 1)
                broker.start()
                await eventually(lambda: journaled("mqtt.records_skipped") >= 1)
                await eventually(lambda: journaled("mqtt.backlog", "restore") == 1)
                newest = [e.id for e in sent[-20:]]
                await platform.wait_for(lambda _: set(newest) <= platform.ids)
                got = [m.json()["id"] for m in platform.messages]
                assert sent[0].id not in got, "the oldest records were beyond the bound"
                assert plugin.ctx.counters["skipped_backlog"] >= 20
                assert gw.runners["mqtt"].status.restarts == 0
    finally:
        broker.stop()
