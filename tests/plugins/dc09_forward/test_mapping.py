"""The reversed tables: what each core kind is sent as, read back by the receiver's own mapping.

For every (kind, phase) of the core table that has a code, the block the forwarder builds is
decoded by the sia_dc09 receiver's parsers and mapped by its tables: the kind comes back as
itself (or as the alias/parent the table names), the phase as itself, the zone and area too.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.model.event import Event
from gateway.model.kinds import CORE_KINDS, Phase
from gateway.sdk.codec import DecodeContext
from plugins.contact_id.mapping import to_events as cid_to_events
from plugins.dc09_forward import reverse
from plugins.dc09_forward.config import Format
from plugins.dc09_forward.encode import encode
from plugins.dc09_forward.table import BEGIN, END, markdown
from plugins.sia_dc09.admcid import parse_admcid
from plugins.sia_dc09.sia.data import parse_data
from plugins.sia_dc09.sia.mapping import sia_to_events
from tests.conftest import REPO

CTX = DecodeContext(site="arc", now=datetime(2026, 1, 1, tzinfo=UTC))
PAIRS = [(spec.name, phase) for spec in CORE_KINDS for phase in sorted(spec.phases)]


def event(kind: str, phase: Phase, **fields: object) -> Event:
    base: dict[str, object] = {"zone": "7", "area": "2", "source": "hq/panel-1/zone-7"}
    base.update(fields)
    return Event(kind=kind, phase=phase, priority=2, **base)  # type: ignore[arg-type,unused-ignore]


def decoded(report_data: str, fmt: Format) -> Event:
    if fmt is Format.SIA_DCS:
        block = parse_data(report_data)
        events = sia_to_events("ACC1", block.events, CTX, occurred_at=None, raw=None)
    else:
        events = cid_to_events(parse_admcid(report_data, "ACC1"), CTX)
    assert len(events) == 1
    return events[0]


def expected_kinds(kind: str, via: str) -> set[str]:
    if via.startswith(("alias ", "parent ")):
        return {via.split(" ", 1)[1]}
    return {kind}


@pytest.mark.parametrize(("kind", "phase"), PAIRS, ids=[f"{k}-{p}" for k, p in PAIRS])
@pytest.mark.parametrize("fmt", list(Format))
def test_every_mapped_kind_reads_back_as_itself(kind: str, phase: Phase, fmt: Format) -> None:
    choice = reverse.sia_for(kind, phase) if fmt is Format.SIA_DCS else reverse.cid_for(kind, phase)
    report = encode(event(kind, phase), fmt, "ACC1", "skip")
    if choice is None:
        assert report is None
        return
    assert report is not None
    back = decoded(report.data, fmt)
    assert back.kind in expected_kinds(kind, choice.via), report
    assert back.phase == phase, report
    address_is = choice.address if fmt is Format.SIA_DCS else choice.ccc_is  # type: ignore[union-attr]
    if address_is == "zone":
        assert back.zone == "7", report
    if fmt is Format.ADM_CID or address_is != "area":
        assert back.area == "2", report


def test_hand_picked_codes_map_back_to_their_pair() -> None:
    from plugins.contact_id import codes as cid_codes
    from plugins.sia_dc09.sia import codes as sia_codes

    for (kind, phase), code in reverse.SIA_PREFERRED.items():
        spec = sia_codes.CODES[code]
        assert (spec.kind, spec.phase) == (kind, phase), code
    for (kind, phase), (code, qualifier) in reverse.CID_PREFERRED.items():
        row = cid_codes.CODES[code]
        assert (row.kind_for(qualifier), row.phase_for(qualifier)) == (kind, phase), code


def test_an_event_keeps_its_own_code_in_its_own_format() -> None:
    vendor = event("sia_dc09.unmapped", Phase.ALARM, code="SIA:ZQ")
    report = encode(vendor, Format.SIA_DCS, "ACC1", "skip")
    assert report is not None and report.data == "#ACC1|Nri2/ZQ007" and report.via == "event"
    cid = event("intrusion.perimeter", Phase.RESTORE, code="CID:R131")
    report = encode(cid, Format.ADM_CID, "ACC1", "skip")
    assert report is not None and report.data == "#ACC1|3131 02 007" and report.code == "CID:R131"
    # across formats the kind decides, not the foreign code
    report = encode(cid, Format.SIA_DCS, "ACC1", "skip")
    assert report is not None and report.code == "SIA:BH"


def test_kinds_without_a_code_are_general_or_skipped() -> None:
    offline = event("gateway.loop_blocked", Phase.ALARM, zone=None, area=None)
    assert encode(offline, Format.SIA_DCS, "ACC1", "skip") is None
    general = encode(offline, Format.SIA_DCS, "ACC1", "general")
    assert general is not None and general.data == "#ACC1|NUA" and general.via == "general"
    cid = encode(offline, Format.ADM_CID, "ACC1", "general")
    assert cid is not None and cid.data == "#ACC1|1140 00 000"
    momentary = event("access.granted", Phase.MOMENTARY)
    assert encode(momentary, Format.ADM_CID, "ACC1", "general") is not None  # 4xx has one
    status = event("door.opened", Phase.STATUS)
    assert encode(status, Format.SIA_DCS, "ACC1", "general") is None  # never a general alarm


def test_numbers_that_do_not_fit_are_left_out_and_named() -> None:
    wide = event("intrusion", Phase.ALARM, zone="1234", area="x1", user="9")
    report = encode(wide, Format.ADM_CID, "ACC1", "skip")
    assert report is not None
    assert report.data == "#ACC1|1130 00 000"
    assert set(report.dropped) == {"zone", "area", "user"}
    report = encode(wide, Format.SIA_DCS, "ACC1", "skip")
    assert report is not None and report.data == "#ACC1|Nid9/BA1234"
    assert report.dropped == ("area",)


def test_the_docs_carry_the_generated_table() -> None:
    page = (REPO / "docs" / "plugins" / "dc09-forward.md").read_text(encoding="utf-8")
    start, end = page.index(BEGIN), page.index(END) + len(END)
    assert page[start:end] == markdown(), "regenerate: python -m plugins.dc09_forward.table"
