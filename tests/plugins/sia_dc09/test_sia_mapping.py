"""SIA-DCS events as canonical events: kinds, phases, addresses, modifiers, unknown codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.model.event import Event
from gateway.model.kinds import KindRegistry, Phase
from gateway.sdk.codec import Addresser, DecodeContext
from plugins.contact_id.codec import parse as parse_contact_id
from plugins.contact_id.mapping import to_events as contact_id_events
from plugins.sia_dc09.sia.codes import CODES
from plugins.sia_dc09.sia.data import SiaEvent, parse_data
from plugins.sia_dc09.sia.kinds import NAMESPACE, UNMAPPED
from plugins.sia_dc09.sia.mapping import PROTOCOL, sia_to_events

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SENT = datetime(2025, 3, 1, 11, 59, 58, tzinfo=UTC)


def ctx(addresser: Addresser | None = None) -> DecodeContext:
    return DecodeContext(site="site", now=NOW, addresser=addresser)


def events_of(
    block: str, account: str = "1234", context: DecodeContext | None = None
) -> list[Event]:
    parsed = parse_data(block)
    return sia_to_events(account, list(parsed.events), context or ctx(), occurred_at=None, raw=None)


def event_of(block: str, account: str = "1234") -> Event:
    (event,) = events_of(block, account)
    return event


def test_ba012_is_an_intrusion_alarm_on_the_zone() -> None:
    # AjaxSiaCodec test frame ...#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]...
    e = event_of("#78919|Nri1/BA012", account="78919")
    assert (e.kind, e.phase, e.priority) == ("intrusion", Phase.ALARM, 2)
    assert e.source == "site/acct-78919/zone-12"
    assert (e.zone, e.user, e.area) == ("12", None, "1")
    assert (e.protocol, e.code) == ("sia-dcs", "SIA:BA")
    assert e.text == "Burglary Alarm: Burglary zone has been violated while armed"
    assert e.data == {"account": "78919", "new": True, "address": "12", "modifiers": {"ri": "1"}}
    assert e.occurred_at == e.received_at == NOW


def test_bh_is_its_restore_on_the_same_source() -> None:
    alarm, restore = events_of("#1234|Nri1/BA12/BH12")
    assert (restore.kind, restore.phase, restore.source) == (
        alarm.kind,
        Phase.RESTORE,
        alarm.source,
    )


def test_op_is_a_disarm_status_on_the_panel_never_an_alarm() -> None:
    """DESIGN: a disarm must never open an incident (PROSEC capture [3044|NOP1])."""
    e = event_of("3044|NOP1", account="3044")
    assert (e.kind, e.phase, e.priority) == ("arming.disarmed", Phase.STATUS, 4)
    assert (e.source, e.user, e.zone) == ("site/acct-3044", "1", None)


@pytest.mark.parametrize("code", ["OP", "OA", "OC", "OG", "OJ", "OK", "OQ", "OR", "OS", "BC"])
def test_every_opening_is_a_status(code: str) -> None:
    e = event_of(f"#1234|Nri2/{code}3")
    assert (e.kind, e.phase) == ("arming.disarmed", Phase.STATUS)
    assert e.phase is not Phase.ALARM


def test_cl_is_an_arming_by_a_user_in_an_area() -> None:
    # pysiaalarm fixture [|Nri1/CL501]
    e = event_of("|Nri1/CL501")
    assert (e.kind, e.phase, e.source, e.user, e.area) == (
        "arming.armed",
        Phase.STATUS,
        "site/acct-1234",
        "501",
        "1",
    )
    assert "mode" not in e.data


def test_perimeter_arming_is_stay_mode_in_the_addressed_area() -> None:
    # sia_dc09.md "NNL2"; the address of NL is an area number
    e = event_of("NNL2")
    assert (e.kind, e.area, e.data["mode"], e.zone, e.user) == (
        "arming.armed",
        "2",
        "stay",
        None,
        None,
    )


def test_ri_wins_over_an_area_address() -> None:
    e = event_of("Nri3/CG2")
    assert (e.area, e.data["address"]) == ("3", "2")


def test_bypass_and_unbypass_are_status_on_the_zone() -> None:
    on, off = events_of("#1234|Nri1/BB5/BU5")
    assert (on.kind, on.phase, on.source) == (
        "zone.bypassed",
        Phase.STATUS,
        "site/acct-1234/zone-5",
    )
    assert (off.kind, off.phase, off.source) == ("zone.unbypassed", Phase.STATUS, on.source)


def test_rp_is_a_momentary_periodic_test_from_the_panel() -> None:
    # PROSEC capture [36214|NRP]; pysiaalarm [#EA1984|Nri0/RP0000]
    e = event_of("36214|NRP", account="36214")
    assert (e.kind, e.phase, e.priority, e.source) == (
        "test.periodic",
        Phase.MOMENTARY,
        4,
        "site/acct-36214",
    )
    assert (e.zone, e.area) == (None, None)
    e = event_of("#EA1984|Nri0/RP0000", account="EA1984")
    assert (e.zone, e.area, e.data["address"]) == (None, None, "0")


def test_zone_zero_is_the_panel_itself() -> None:
    # AjaxSiaCodec decrypt vector: Nri1/WA000
    e = event_of("Nri1/WA000")
    assert (e.kind, e.source, e.zone, e.area) == ("water", "site/acct-1234", None, "1")


def test_same_addresses_as_contact_id() -> None:
    """A panel reporting E130 zone 15 in Contact ID and BA15 in SIA names one zone."""
    (cid,) = contact_id_events(parse_contact_id("123418113001015E"), ctx())
    sia = event_of("#1234|Nri1/BA015")
    assert (sia.source, sia.zone, sia.area, sia.kind, sia.phase) == (
        cid.source,
        cid.zone,
        cid.area,
        cid.kind,
        cid.phase,
    )


def test_id_modifier_names_the_user_when_the_address_does_not() -> None:
    # Honeywell GX user events: Ntixx:xx/rixx/iduuu/pixxx/EV (no address after the code)
    e = event_of("Nti19:44/id7/ri4/pi2/OP")
    assert (e.user, e.area) == ("7", "4")
    assert e.data["modifiers"] == {"ti": "19:44", "id": "7", "ri": "4", "pi": "2"}
    bypass = event_of("Nid3/BB5")
    assert (bypass.zone, bypass.user) == ("5", "3")


def test_other_numbers_stay_in_data_never_a_zone() -> None:
    """DF's address is a door number: it must not become zone-3."""
    e = event_of("#1234|Nri1/DF3")
    assert (e.kind, e.phase, e.source, e.zone) == (
        "door.forced",
        Phase.ALARM,
        "site/acct-1234",
        None,
    )
    assert (e.data["address"], e.data["address_is"]) == ("3", "Door number")


def test_text_trailing_and_the_missing_n_are_kept() -> None:
    e = event_of("#123456|Nri1CL0^VX FRONTE ^", account="123456")
    assert (e.user, e.data["text"]) == (None, "VX FRONTE")  # user 0 names nobody
    e = event_of("#006969|Nri04/OP001NM", account="006969")
    assert e.data["trailing"] == "NM"
    assert event_of("BA5").data["new"] is False


def test_multi_event_block_gives_events_in_order() -> None:
    events = events_of("#1234|Nri01/CL001/NBA12")
    assert [(e.kind, e.source, e.area) for e in events] == [
        ("arming.armed", "site/acct-1234", "1"),
        ("intrusion", "site/acct-1234/zone-12", "1"),
    ]


def test_unknown_code_is_the_unmapped_kind_kept_whole() -> None:
    e = event_of("#1234|Nri1/ZQ7^vendor^")
    assert (e.kind, e.phase, e.priority, e.code) == (
        "sia_dc09.unmapped",
        Phase.ALARM,
        2,
        "SIA:ZQ",
    )
    assert (e.source, e.zone, e.area) == ("site/acct-1234", None, "1")
    assert e.data["unmapped"] == "event code not in the DC-03 code table"
    assert (e.data["address"], e.data["text"]) == ("7", "vendor")
    registry = KindRegistry()
    registry.register(NAMESPACE, UNMAPPED)
    registry.check(e.kind, e.phase)


def test_occurred_at_raw_and_addresser_come_from_the_caller() -> None:
    frame = '73580056"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012]_14:12:04,09-25-2026'
    parsed = parse_data("#78919|Nri1/BA012")
    context = ctx(addresser=lambda device, point: f"hq/{device}" + (f"/{point}" if point else ""))
    (e,) = sia_to_events("78919", list(parsed.events), context, occurred_at=SENT, raw=frame)
    assert (e.occurred_at, e.received_at, e.raw) == (SENT, NOW, frame)
    assert e.source == "hq/acct-78919/zone-12"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_maps_to_a_valid_event(code: str) -> None:
    spec = CODES[code]
    event = SiaEvent(code=code, address="5", known=True, new=True, area="1", user_id="9")
    (e,) = sia_to_events("1234", [event], ctx(), occurred_at=None, raw=None)
    assert (e.kind, e.phase, e.code) == (spec.kind, spec.phase, f"SIA:{code}")
    assert e.priority == (spec.priority or KindRegistry().get(spec.kind).priority)
    assert e.protocol == PROTOCOL
    assert (e.zone is not None) is (spec.address == "zone")
    assert e.user == ("5" if spec.address == "user" else "9")
    for key, value in spec.data.items():
        assert e.data[key] == value
