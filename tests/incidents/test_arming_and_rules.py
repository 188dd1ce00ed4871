"""Arming decides whether an intrusion opens an incident; 24-hour kinds open one whatever the
arming; rules can open, annotate and notify."""

from __future__ import annotations

from pathlib import Path

from gateway.host import Gateway
from gateway.model.kinds import Phase
from gateway.model.notify import NotifyRequest
from tests.incidents.helpers import caught_up, records
from tests.rules.helpers import emit, judged, runs, settled, started


async def arm(gw: Gateway, armed: bool) -> None:
    kind = "arming.armed" if armed else "arming.disarmed"
    data = {"mode": "away"}
    await emit(gw, kind, source="hq/panel-1", phase=Phase.STATUS, area="1", data=data)


async def test_intrusion_in_a_disarmed_area_is_journaled_but_opens_no_incident(
    tmp_path: Path,
) -> None:
    gw = await started(tmp_path, "")
    try:
        await arm(gw, False)
        intrusion = await emit(gw, "intrusion", source="hq/panel-1/zone-4", area="1")
        await caught_up(gw)
        assert gw.incidents.incidents == {}
        assert gw.journal.reader.find(intrusion.id) is not None
        assert gw.incidents.counters.not_opened_disarmed == 1
        # 24-hour kinds alarm whatever the arming
        await emit(gw, "panic", source="hq/panel-1/zone-5", area="1")
        await emit(gw, "tamper", source="hq/panel-1/zone-6", area="1")
        await emit(gw, "fire", source="hq/panel-1/zone-7", area="1")
        await caught_up(gw)
        assert sorted(i.incident_class for i in gw.incidents.incidents.values()) == [
            "fire",
            "hold-up",
            "tamper",
        ]
        # armed: the same intrusion opens one
        await arm(gw, True)
        await emit(gw, "intrusion", source="hq/panel-1/zone-4", area="1")
        await caught_up(gw)
        assert [i.incident_class for i in gw.incidents.listing("open")].count("intrusion") == 1
    finally:
        await gw.stop()


async def test_arming_just_before_the_alarm_counts(tmp_path: Path) -> None:
    gw = await started(tmp_path, "")
    try:
        await arm(gw, False)
        await arm(gw, True)
        await emit(gw, "intrusion", source="hq/panel-1/zone-4", area="1")
        await caught_up(gw)
        assert len(gw.incidents.incidents) == 1
    finally:
        await gw.stop()


RULES = """
rules:
  - name: day-intrusion-log
    when: {kind: intrusion, phase: alarm}
    if: [{disarmed: true}]
    then:
      - incident: {class: intrusion, note: "opened by day: {source}"}
      - notify:
          channel: duty-sms
          to: ["+8613800000000"]
          subject: "Intrusion by day at {source}"
          body: "zone {zone}, event {id}"
  - name: fire-note
    when: {kind: fire, phase: alarm}
    then:
      - incident: {note: "doors of {area} released"}
"""


async def test_a_rule_opens_an_incident_whatever_the_arming_and_notifies(tmp_path: Path) -> None:
    gw = await started(tmp_path, RULES)
    try:
        await arm(gw, False)
        trigger = await emit(gw, "intrusion", source="hq/panel-1/zone-4", area="1", zone="4")
        await judged(gw)
        await settled(gw)
        await caught_up(gw)
        (incident,) = gw.incidents.incidents.values()
        assert incident.opened_by == "rule:day-intrusion-log"
        assert [n.text for n in incident.notes] == ["opened by day: hq/panel-1/zone-4"]
        (run,) = [r for r in runs(gw) if r["rule"] == "day-intrusion-log"]
        assert run["status"] == "ok"
        assert run["actions"][0] == {
            "type": "incident",
            "opened": True,
            "incident": incident.id,
            "status": "ok",
        }
        (request_record,) = records(gw, "notify.request")
        request = NotifyRequest.model_validate(request_record.data)
        assert request.subject == "Intrusion by day at hq/panel-1/zone-4"
        assert request.body == f"zone 4, event {trigger.id}"
        assert request.rule == "day-intrusion-log" and request.incident == incident.id
        assert run["actions"][1]["id"] == request_record.id
    finally:
        await gw.stop()


async def test_a_rule_notes_the_incident_its_trigger_opened(tmp_path: Path) -> None:
    gw = await started(tmp_path, RULES)
    try:
        await emit(gw, "fire", source="hq/panel-1/zone-7", area="1")
        await judged(gw)
        await settled(gw)
        (incident,) = gw.incidents.incidents.values()
        assert [n.text for n in incident.notes] == ["doors of hq/vault released"]
        assert [n.by for n in incident.notes] == ["rule:fire-note"]
    finally:
        await gw.stop()
