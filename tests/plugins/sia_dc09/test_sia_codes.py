"""The DC-03 code table against its source, the core kinds, and the Contact ID table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.model.kinds import CONDITION, KindRegistry, Phase
from plugins.contact_id.codes import CODES as CID_CODES
from plugins.sia_dc09.sia.codes import CODES, CONCERNS_ADDRESS
from plugins.sia_dc09.sia.kinds import NAMESPACE, UNMAPPED
from tests.conftest import REPO

CORE = KindRegistry()


def load(relative: str) -> Any:
    """A conformance table from the repository's copy (never ../shared at test time)."""
    return json.loads((REPO / "conformance" / relative).read_text(encoding="utf-8"))


SOURCE = load("tables/sia_dc03_codes.json")
XDATA = load("tables/dc09_xdata.json")
CID_TO_SIA = load("tables/contactid_to_sia_mapping.json")


def test_copies_keep_their_source_lines() -> None:
    assert SOURCE["source"].startswith("eavanvalkenburg/pysiaalarm src/pysiaalarm/data/sia_codes")
    assert XDATA["source"].startswith("eavanvalkenburg/pysiaalarm src/pysiaalarm/data/xdata")
    assert len(XDATA["xdata"]) == 18
    assert all(key == row["identifier"] for key, row in XDATA["xdata"].items())


def test_every_source_code_is_mapped_with_its_name_text_and_concerns() -> None:
    source = SOURCE["codes"]
    assert len(source) == 325
    assert set(CODES) == set(source)
    for code, spec in CODES.items():
        row = source[code]
        assert (spec.code, spec.name, spec.description, spec.concerns) == (
            row["code"],
            row["type"],
            row["description"],
            row["concerns"],
        ), code


def test_address_meaning_follows_the_concerns_column() -> None:
    for code, spec in CODES.items():
        assert spec.address == CONCERNS_ADDRESS.get(spec.concerns, "none"), code
    assert (CODES["BA"].address, CODES["OP"].address, CODES["CA"].address) == (
        "zone",
        "user",
        "area",
    )
    assert (CODES["RP"].address, CODES["DF"].address) == ("none", "none")  # unused; door


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_kind_is_core_and_takes_its_phase(code: str) -> None:
    spec = CODES[code]
    CORE.check(spec.kind, spec.phase)  # raises KindError otherwise


def _needs_reason(code: str) -> list[str]:
    """The judgements the table must explain (mirrors the Contact ID table's rule)."""
    spec = CODES[code]
    why = []
    if spec.priority is not None:
        why.append("priority override")
    if spec.kind == "trouble":
        why.append("generic trouble")
    if spec.kind == "supervisory" and "Supervis" not in spec.name:
        why.append("supervisory for a code that is not a supervisory one")
    if spec.phase is Phase.STATUS and Phase.ALARM in CORE.get(spec.kind).phases:
        why.append("a status on a condition kind")
    if spec.data:
        why.append("data")
    return why


def test_every_judgement_has_a_reason() -> None:
    missing = [(code, _needs_reason(code)) for code in CODES if _needs_reason(code)]
    missing = [(code, why) for code, why in missing if not CODES[code].reason]
    assert missing == []


def test_priority_overrides_differ_from_the_kind_default() -> None:
    for code, spec in CODES.items():
        if spec.priority is not None:
            assert 1 <= spec.priority <= 4, code
            assert spec.priority != CORE.get(spec.kind).priority, code


# -- phase rules ------------------------------------------------------------------------------

FAMILIES = "BFGHKMPQSUWZ"
"""Zone-type families with DC-03's regular second letters (A alarm, H restore, ...)."""


@pytest.mark.parametrize("family", list(FAMILIES))
def test_zone_families_carry_their_phase_in_the_second_letter(family: str) -> None:
    alarm = CODES[family + "A"]
    assert alarm.phase is Phase.ALARM
    for letter in "HR":  # alarm restore, restoral: the end of the same condition
        assert (CODES[family + letter].kind, CODES[family + letter].phase) == (
            alarm.kind,
            Phase.RESTORE,
        )
    assert (CODES[family + "T"].phase, CODES[family + "J"].phase) == (Phase.ALARM, Phase.RESTORE)
    assert CODES[family + "T"].kind == CODES[family + "J"].kind == "trouble.sensor"
    assert (CODES[family + "B"].kind, CODES[family + "B"].phase) == ("zone.bypassed", Phase.STATUS)
    assert (CODES[family + "U"].kind, CODES[family + "U"].phase) == (
        "zone.unbypassed",
        Phase.STATUS,
    )


def test_bypass_is_status_never_an_alarm() -> None:
    """BB bypass / BU unbypass, like Contact ID 570: state reports."""
    assert (CODES["BB"].kind, CODES["BB"].phase) == ("zone.bypassed", Phase.STATUS)
    assert (CODES["BU"].kind, CODES["BU"].phase) == ("zone.unbypassed", Phase.STATUS)


def test_openings_and_closings_are_status_never_alarms() -> None:
    """DESIGN: a disarm (opening) or an arm (closing) is a status and never opens an incident."""
    openings = ["OP", "OA", "OB", "OC", "OG", "OH", "OJ", "OK", "OL", "OQ", "OR", "OS", "OZ"]
    closings = ["CL", "CA", "CB", "CF", "CG", "CJ", "CK", "CP", "CQ", "CS", "CW", "CZ", "NL"]
    for code in openings:
        assert (CODES[code].kind, CODES[code].phase) == ("arming.disarmed", Phase.STATUS), code
    for code in closings:
        assert (CODES[code].kind, CODES[code].phase) == ("arming.armed", Phase.STATUS), code
    for code, spec in CODES.items():
        if spec.kind.startswith("arming.") and spec.kind != "arming.fail":
            assert spec.phase is Phase.STATUS, code


def test_tests_are_momentary() -> None:
    assert (CODES["RP"].kind, CODES["RP"].phase) == ("test.periodic", Phase.MOMENTARY)
    assert (CODES["RX"].kind, CODES["RX"].phase) == ("test.manual", Phase.MOMENTARY)


def test_text_names_the_family() -> None:
    """BH's DC-03 text alone is "Alarm condition eliminated", the same as FH's."""
    assert CODES["BH"].text == "Burglary Alarm Restore: Alarm condition eliminated"


def test_unmapped_kind_registers_under_the_plugin_namespace() -> None:
    registry = KindRegistry()
    owned = registry.register(NAMESPACE, UNMAPPED)
    assert (owned.name, owned.owner, owned.phases) == ("sia_dc09.unmapped", "sia_dc09", CONDITION)
    registry.check(UNMAPPED.name, Phase.ALARM)


# -- consistency with the Contact ID table -----------------------------------------------------
#
# pysiaalarm's Contact ID -> SIA table (copied in conformance/tables) says which SIA code a
# Contact ID report becomes. Both tables must then tell the same story: the SIA code's kind is
# the Contact ID code's kind, or a coarser one it refines (BA intrusion for 131 perimeter; YX
# trouble for 321 bell), and its phase is the one Contact ID gives the qualifier. A pair that
# sends both qualifiers as one SIA code (602 -> RP/RP) cannot carry a restore: only its
# qualifier 1 is compared for phase. What is left disagrees for a reason written here.

NOT_IN_CID_TABLE = {"358", "359", "360", "470", "471", "473"}
"""Codes pysiaalarm maps that the DC-05 list (and so the Contact ID table) does not have; the
Contact ID plugin reports them as contact_id.unmapped."""


def _pairs(*codes: str, qualifiers: str = "13") -> dict[tuple[str, str], str]:
    return {(code, q): "" for code in codes for q in qualifiers}


def _because(reason: str, pairs: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    return dict.fromkeys(pairs, reason)


DISAGREEMENTS: dict[tuple[str, str], str] = {
    # pysiaalarm's SIA code names another DC-03 condition than the Contact ID code does
    **_because(
        "pysiaalarm's pair is another condition: sprinkler water flow (fire in both tables) "
        "goes as WA, DC-03's flood alarm, where DC-03 has SA sprinkler alarm",
        _pairs("113"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: relay troubles go as RC/RO, which DC-03 "
        "defines as a relay energised/de-energised (state), where OU/OV are output troubles",
        _pairs("320", "323", "324", "325"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: hold-up zone trouble's restore goes as HR, "
        "the hold-up restoral (HJ is the trouble restore; HT/376 qualifier 1 agree)",
        _pairs("376", qualifiers="3"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: system shutdown goes as YT, a low system "
        "battery; DC-03 has no shutdown code",
        _pairs("414"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: legal code entry goes as DO, which DC-03 "
        "defines as a door's access mode (access open), not a credential accepted",
        _pairs("462"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: re-arm after alarm goes as YY, a status "
        "report header; DC-03 has no re-arm code",
        _pairs("463"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: time/date inaccurate (clock skew) goes as "
        "JD, DC-03's 'the date was changed' (a report, like JT and Contact ID 625)",
        _pairs("626"),
    ),
    **_because(
        "pysiaalarm's pair is another condition: download abort goes as RR, DC-03's power "
        "up after a total power loss",
        _pairs("900"),
    ),
    # DC-03 has no code as specific as the Contact ID one
    **_because(
        "DC-03 has no duress or silent-panic code: senders fold them onto HA, hold-up; the "
        "SIA side cannot tell them apart, so HA stays the hold-up it names",
        _pairs("121", "122", "124", "125"),
    ),
    **_because(
        "DC-03's AC and battery codes are the panel's own (AT, YT): an expansion module's AC "
        "loss or low battery goes as ET/ER and its cause is lost in translation",
        _pairs("338", "342"),
    ),
    # one-off Contact ID reports sent as SIA condition codes
    **_because(
        "a one-off report (status in the Contact ID table) sent as a condition code: system "
        "reset's restore as YZ service completed, programming changed as YX/YZ, module reset "
        "as ET/ER, log 90% full as JL (whose 50% twin 622 is a status in both tables)",
        {**_pairs("305", qualifiers="3"), **_pairs("306", "339"), **_pairs("623", qualifiers="1")},
    ),
    # the Contact ID table's own reasoned deviations from pysiaalarm (its test_codes.py)
    **_because(
        "Contact ID table reads 146 silent burglary as intrusion, not hold-up",
        _pairs("146"),
    ),
    **_because(
        "Contact ID table reads 158 high temp as environmental; KA is read here as a heat "
        "detector's fire alarm (the safe side, and Contact ID 114 heat goes as KA)",
        _pairs("158"),
    ),
    **_because(
        "Contact ID table reads 312 overcurrent as power.overload (DC-03's YI); pysiaalarm "
        "sends the generic power-supply trouble YP/YQ",
        _pairs("312"),
    ),
    **_because(
        "Contact ID table reads 341 as tamper (DC-03's ES/EJ); pysiaalarm sends ET/ER",
        _pairs("341"),
    ),
    **_because(
        "Contact ID's 4xx rule (1 opening, 3 closing): pysiaalarm sends E441 and E456 as CG "
        "(closing) and R456 as OG (opening)",
        {**_pairs("441", "456", qualifiers="1"), **_pairs("456", qualifiers="3")},
    ),
}


def _agrees_in_kind(sia_kind: str, cid_kind: str) -> bool:
    return cid_kind == sia_kind or cid_kind.startswith(sia_kind + ".")


def _disagreements() -> tuple[int, set[tuple[str, str]]]:
    compared, found = 0, set()
    for code, by_qualifier in CID_TO_SIA["mapping"].items():
        if code not in CID_CODES:
            continue
        cid = CID_CODES[code]
        folded = by_qualifier.get("1") == by_qualifier.get("3")
        for qualifier, sia_code in by_qualifier.items():
            sia, cid_kind = CODES[sia_code], cid.kind_for(qualifier)
            assert cid_kind is not None, (code, qualifier)
            compared += 1
            phase_lost = folded and qualifier == "3" and cid.phase_for("1") != cid.phase_for("3")
            same_phase = phase_lost or sia.phase is cid.phase_for(qualifier)
            if not (_agrees_in_kind(sia.kind, cid_kind) and same_phase):
                found.add((code, qualifier))
    return compared, found


def test_every_contact_id_pair_agrees_except_where_reasoned() -> None:
    compared, found = _disagreements()
    assert compared == 232  # every pair whose Contact ID code is in the table
    assert sorted(found - set(DISAGREEMENTS)) == []  # a new disagreement: fix a table
    assert sorted(set(DISAGREEMENTS) - found) == []  # a stale exception: drop it
    assert all(DISAGREEMENTS.values())


def test_only_codes_outside_the_contact_id_table_are_skipped() -> None:
    assert set(CID_TO_SIA["mapping"]) - set(CID_CODES) == NOT_IN_CID_TABLE
    assert all(sia in CODES for q in CID_TO_SIA["mapping"].values() for sia in q.values())


def test_the_core_pairs_agree_exactly() -> None:
    """The pairs every receiver relies on, spelled out."""
    pairs = {
        ("130", "1"): "BA",
        ("130", "3"): "BH",
        ("110", "1"): "FA",
        ("120", "1"): "PA",
        ("301", "1"): "AT",
        ("301", "3"): "AR",
        ("302", "1"): "YT",
        ("350", "1"): "YC",
        ("401", "1"): "OP",
        ("401", "3"): "CL",
        ("570", "1"): "BB",
        ("570", "3"): "BU",
        ("602", "1"): "RP",
    }
    for (code, qualifier), sia_code in pairs.items():
        assert CID_TO_SIA["mapping"][code][qualifier] == sia_code
        cid, sia = CID_CODES[code], CODES[sia_code]
        assert (sia.kind, sia.phase) == (cid.kind_for(qualifier), cid.phase_for(qualifier))
