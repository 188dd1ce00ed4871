"""Contact ID reports as canonical events: kinds, phases, addresses and the unmapped fallback."""

from __future__ import annotations

from gateway.model.kinds import Phase
from plugins.contact_id.hooks import CODEC
from tests.plugins.contact_id.helpers import NOW, ctx, event_of, frame


def test_e130_zone_15_is_an_intrusion_alarm_on_the_zone() -> None:
    e = event_of(frame(qualifier="1", event="130", group="01", ccc="015"))
    assert (e.kind, e.phase, e.priority) == ("intrusion", Phase.ALARM, 2)
    assert e.source == "site/acct-1234/zone-15"
    assert (e.zone, e.user, e.area) == ("15", None, "1")
    assert (e.protocol, e.code, e.text) == ("contact-id", "CID:E130", "Burglary")
    assert e.occurred_at == e.received_at == NOW


def test_r130_is_its_restore() -> None:
    e = event_of(frame(qualifier="3", event="130"))
    assert (e.kind, e.phase, e.code) == ("intrusion", Phase.RESTORE, "CID:R130")


def test_qualifier_6_is_a_status_report() -> None:
    e = event_of(frame(qualifier="6", event="301", ccc="000"))
    assert (e.kind, e.phase, e.code) == ("trouble.ac_loss", Phase.STATUS, "CID:P301")


def test_r401_user_3_is_armed_status_on_the_panel() -> None:
    e = event_of(frame(qualifier="3", event="401", group="02", ccc="003"))
    assert (e.kind, e.phase, e.priority) == ("arming.armed", Phase.STATUS, 4)
    assert (e.source, e.user, e.zone, e.area) == ("site/acct-1234", "3", None, "2")


def test_e401_is_a_disarm() -> None:
    e = event_of(frame(qualifier="1", event="401", ccc="003"))
    assert (e.kind, e.phase) == ("arming.disarmed", Phase.STATUS)


def test_r441_is_armed_stay() -> None:
    e = event_of(frame(qualifier="3", event="441", ccc="001"))
    assert (e.kind, e.data["mode"]) == ("arming.armed", "stay")


def test_late_and_early_openings_still_change_the_arming_state() -> None:
    late_close = event_of(frame(qualifier="3", event="452", ccc="004"))
    assert (late_close.kind, late_close.phase) == ("arming.armed", Phase.STATUS)
    assert late_close.data["schedule"] == "late"
    early_open = event_of(frame(qualifier="1", event="451", ccc="004"))
    assert (early_open.kind, early_open.data["schedule"]) == ("arming.disarmed", "early")


def test_602_is_a_momentary_periodic_test_from_the_panel() -> None:
    e = event_of(frame(qualifier="1", event="602", group="00", ccc="000"))
    assert (e.kind, e.phase, e.priority) == ("test.periodic", Phase.MOMENTARY, 4)
    assert (e.source, e.zone, e.area) == ("site/acct-1234", None, None)


def test_bypass_and_unbypass_are_status() -> None:
    on = event_of(frame(qualifier="1", event="570", ccc="005"))
    off = event_of(frame(qualifier="3", event="570", ccc="005"))
    still = event_of(frame(qualifier="6", event="570", ccc="005"))
    assert (on.kind, on.phase, on.source) == (
        "zone.bypassed",
        Phase.STATUS,
        "site/acct-1234/zone-5",
    )
    assert (off.kind, off.phase) == ("zone.unbypassed", Phase.STATUS)
    assert (still.kind, still.phase) == ("zone.bypassed", Phase.STATUS)


def test_priority_override_from_the_table() -> None:
    assert event_of(frame(event="133")).priority == 1  # 24-hour safe zone
    assert event_of(frame(event="130")).priority == 2


def test_fixed_phases_from_the_table() -> None:
    assert event_of(frame(event="627", ccc="000")).phase is Phase.ALARM
    assert event_of(frame(event="628", ccc="000")).phase is Phase.RESTORE
    assert event_of(frame(qualifier="1", event="465")).phase is Phase.RESTORE


def test_unknown_code_is_kept_as_unmapped_never_dropped() -> None:
    e = event_of(frame(event="1BC", ccc="004"))
    assert (e.kind, e.phase, e.priority) == ("contact_id.unmapped", Phase.ALARM, 1)
    assert (e.code, e.source) == ("CID:E1BC", "site/acct-1234/zone-4")
    assert "not in the code table" in e.data["unmapped"]


def test_qualifier_6_on_open_close_is_unmapped_at_low_priority() -> None:
    e = event_of(frame(qualifier="6", event="401", ccc="002"))
    assert (e.kind, e.phase, e.priority, e.user) == ("contact_id.unmapped", Phase.STATUS, 4, "2")
    assert e.text == "O/C by user" and "qualifier 6" in e.data["unmapped"]


def test_hex_account_and_site_from_the_context() -> None:
    e = event_of(frame(account="13E3", ccc="012"), ctx(site="branch-01"))
    assert e.source == "branch-01/acct-13E3/zone-12"
    assert e.data["account"] == "13E3"


def test_addresser_hook_replaces_the_default_rule() -> None:
    calls: list[tuple[str, str | None]] = []

    def addresser(device: str, point: str | None) -> str:
        calls.append((device, point))
        return f"hq/unknown-{device.removeprefix('acct-')}"

    e = event_of(frame(ccc="007"), ctx(addresser=addresser))
    assert e.source == "hq/unknown-1234"
    assert calls == [("acct-1234", "zone-7")]


def test_raw_is_the_text_as_received() -> None:
    text = "1234 18 1131 01 015 8"
    decoded = CODEC.decode(text.encode(), ctx())
    assert decoded.events[0].raw == text
    assert decoded.to_json()["events"][0]["raw"] == text
    assert decoded.message["zone"] == "15"
