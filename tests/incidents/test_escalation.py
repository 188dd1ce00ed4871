"""Escalation on the gateway clock: an incident not acknowledged within its class's time raises
``incident.escalated`` and notification requests, repeated per policy until acknowledged."""

from __future__ import annotations

from pathlib import Path

from gateway.host import Gateway
from gateway.incidents.model import IncidentState
from gateway.model.notify import NotifyRequest
from gateway.sdk.clock import ManualClock
from tests.incidents.helpers import caught_up, only_incident, records
from tests.rules.helpers import START, emit, started, until

CLASSES = """
incidents:
  classes:
    - name: hold-up
      kinds: [panic]
      grade: 1
      plan: Call the police.
      ack_within_s: 60
      escalation:
        repeat_s: 30
        max: 3
        notify:
          - {channel: duty-sms, to: ["+8613800000000"]}
          - {channel: ops-mail}
    - name: fire
      kinds: [fire]
      grade: 1
"""


async def escalations(gw: Gateway, n: int) -> None:
    await until(lambda: len(records(gw, "incident.escalated")) >= n, f"{n} escalations")


async def test_escalates_after_the_class_time_then_repeats_up_to_max(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, CLASSES, clock)
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1", text="Hold-up teller 1")
        incident = await only_incident(gw)
        assert incident.ack_due_at is not None
        assert (incident.ack_due_at - START).total_seconds() == 60
        await clock.advance(59.5)
        await caught_up(gw)
        assert records(gw, "incident.escalated") == []
        await clock.advance(1)
        await escalations(gw, 1)
        first = records(gw, "incident.escalated")[0]
        assert first.data["n"] == 1 and first.priority == 1
        assert first.data["notified"] == ["duty-sms", "ops-mail"]
        requests = [NotifyRequest.model_validate(r.data) for r in records(gw, "notify.request")]
        assert [(r.channel, r.to, r.escalation) for r in requests] == [
            ("duty-sms", ["+8613800000000"], 1),
            ("ops-mail", [], 1),
        ]
        assert requests[0].incident == incident.id
        assert "Hold-up teller 1" in requests[0].subject
        assert "Call the police." in requests[0].body
        await clock.advance(29)
        assert len(records(gw, "incident.escalated")) == 1
        await clock.advance(1.5)
        await escalations(gw, 2)
        await clock.advance(300)
        await escalations(gw, 3)
        await clock.advance(300)
        assert [r.data["n"] for r in records(gw, "incident.escalated")] == [1, 2, 3]
        assert len(records(gw, "notify.request")) == 6
        assert gw.incidents.get(incident.id).next_escalation_at is None
    finally:
        await gw.stop()


async def test_acknowledging_stops_the_escalation(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, CLASSES, clock)
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        incident = await only_incident(gw)
        await clock.advance(61)
        await escalations(gw, 1)
        await gw.incidents.acknowledge(incident.id, "alice")
        await clock.advance(200)
        assert len(records(gw, "incident.escalated")) == 1
        assert gw.incidents.get(incident.id).state is IncidentState.ACKNOWLEDGED
    finally:
        await gw.stop()


async def test_acknowledged_in_time_never_escalates_and_classes_without_time_never(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, CLASSES, clock)
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        await emit(gw, "fire", source="hq/panel-1/zone-2")
        await caught_up(gw)
        panic = next(i for i in gw.incidents.incidents.values() if i.kind == "panic")
        await clock.advance(30)
        await gw.incidents.acknowledge(panic.id, "alice")
        await clock.advance(600)
        assert records(gw, "incident.escalated") == []
    finally:
        await gw.stop()


async def test_two_incidents_escalate_each_on_its_own_time(tmp_path: Path) -> None:
    clock = ManualClock(START)
    gw = await started(tmp_path, CLASSES, clock)
    try:
        await emit(gw, "panic", source="hq/panel-1/zone-1")
        await caught_up(gw)
        await clock.advance(20)
        await emit(gw, "panic", source="hq/panel-1/zone-2")
        await caught_up(gw)
        await clock.advance(41)
        await escalations(gw, 1)
        assert [r.source for r in records(gw, "incident.escalated")] == ["hq/panel-1/zone-1"]
        await clock.advance(20)
        await escalations(gw, 2)
        assert [r.source for r in records(gw, "incident.escalated")] == [
            "hq/panel-1/zone-1",
            "hq/panel-1/zone-2",
        ]
    finally:
        await gw.stop()
