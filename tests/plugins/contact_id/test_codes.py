"""The code table against its source, the core kind table, and an independent SIA mapping."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.model.kinds import KindRegistry, Phase
from plugins.contact_id.codes import CODES, QUALIFIER_PHASE, PhaseRule, ccc_is
from plugins.contact_id.mapping import NAMESPACE, UNMAPPED
from tests.plugins.contact_id.helpers import load

SOURCE = load("tables/contactid_event_codes.json")
SIA = load("tables/contactid_to_sia_mapping.json")
CORE = KindRegistry()


def test_copies_keep_their_source_lines() -> None:
    assert SOURCE["source"].startswith("freeswitch/spandsp")
    assert SIA["source"].startswith("eavanvalkenburg/pysiaalarm")


def test_every_source_code_is_mapped_with_its_description_and_ccc() -> None:
    source = {e["code"]: e for e in SOURCE["events"]}
    assert len(source) == 231
    assert set(CODES) == set(source)
    for code, spec in CODES.items():
        assert spec.description == source[code]["description"], code
        assert spec.ccc_is == source[code]["ccc_is"], code


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_mapped_kind_is_core_and_takes_its_phase(code: str) -> None:
    spec = CODES[code]
    assert spec.kinds, code
    for qualifier, kind in spec.kinds.items():
        assert qualifier in QUALIFIER_PHASE
        CORE.check(kind, spec.phase_for(qualifier))  # raises KindError otherwise


def test_priority_overrides_and_generic_kinds_say_why() -> None:
    """A reason for every priority override, every generic kind (plain ``trouble``, or
    ``supervisory`` outside the 2xx supervisory range) and every fixed phase on a condition."""
    for code, spec in CODES.items():
        if spec.priority is not None:
            assert 1 <= spec.priority <= 4, code
            kinds = set(spec.kinds.values())
            assert all(spec.priority != CORE.get(k).priority for k in kinds), code
        needs_reason = (
            spec.priority is not None
            or "trouble" in spec.kinds.values()
            or ("supervisory" in spec.kinds.values() and not code.startswith("2"))
            or (
                spec.phase_rule is not PhaseRule.BY_QUALIFIER
                and any(Phase.ALARM in CORE.get(k).phases for k in spec.kinds.values())
            )
        )
        if needs_reason:
            assert spec.reason, f"{code} needs a reason"


def test_open_close_qualifier_rule() -> None:
    """DESIGN: for open/close codes qualifier 1 is a disarm (opening), 3 an arm (closing)."""
    for code in ("400", "401", "402", "403", "407", "408", "409", "441", "442"):
        spec = CODES[code]
        assert spec.phase_rule is PhaseRule.STATUS
        assert spec.kind_for("1") == "arming.disarmed" and spec.kind_for("3") == "arming.armed"
        assert spec.kind_for("6") is None  # no meaning: reported as contact_id.unmapped


def test_bypass_qualifier_rule() -> None:
    spec = CODES["570"]
    assert spec.phase_rule is PhaseRule.STATUS
    assert [spec.kind_for(q) for q in "136"] == [
        "zone.bypassed",
        "zone.unbypassed",
        "zone.bypassed",
    ]


def test_alarm_and_trouble_codes_follow_the_qualifier() -> None:
    for code in ("110", "130", "131", "137", "301", "302", "350", "380", "384"):
        spec = CODES[code]
        assert spec.phase_rule is PhaseRule.BY_QUALIFIER
        assert [spec.phase_for(q) for q in "136"] == [Phase.ALARM, Phase.RESTORE, Phase.STATUS]


def test_unknown_codes_guess_ccc_by_category() -> None:
    assert (ccc_is("4B1"), ccc_is("1B1"), ccc_is("999")) == ("user", "zone", "user")


def test_unmapped_kind_registers_under_the_plugin_namespace() -> None:
    registry = KindRegistry()
    registry.register(NAMESPACE, UNMAPPED)
    for phase in QUALIFIER_PHASE.values():
        registry.check(UNMAPPED.name, phase)


# -- cross-check against pysiaalarm's Contact ID -> SIA table ---------------------------------

SIA_KIND = {
    **dict.fromkeys(["MA", "MH", "QA", "QH"], "medical"),
    **dict.fromkeys(["FA", "FH", "WA", "WH", "KA", "KH"], "fire"),
    **dict.fromkeys(["PA", "PH", "HA", "HH"], "panic"),
    **dict.fromkeys(["BA", "BH", "EA"], "intrusion"),
    **dict.fromkeys(["TA", "TR"], "tamper"),
    **dict.fromkeys(["GA", "GH"], "gas"),
    **dict.fromkeys(["ZA", "ZH"], "environmental"),
    **dict.fromkeys(["AT", "AR"], "trouble.ac_loss"),
    **dict.fromkeys(["YC", "YK", "LT", "LR"], "trouble.comm_fail"),
    **dict.fromkeys(["YX", "YZ", "YT", "YR", "YM", "YW", "YP", "YQ", "ET", "ER"], "trouble"),
    **dict.fromkeys(["FT", "FJ", "PT", "PJ", "HT", "HR", "VO", "VI", "VT", "VR"], "trouble"),
    **dict.fromkeys(["LB", "LX", "JL", "JO", "JT", "JS"], "trouble.system"),
    **dict.fromkeys(["OP", "OB", "OA", "OQ", "OS", "OC", "OG"], "arming.disarmed"),
    **dict.fromkeys(["CL", "CB", "CA", "CQ", "CS", "CG"], "arming.armed"),
    **dict.fromkeys(["OI", "CI", "EE"], "arming.fail"),
    "BB": "zone.bypassed",
    "BU": "zone.unbypassed",
    "RP": "test.periodic",
    "TX": "test.periodic",
    **dict.fromkeys(["RX", "FX", "FK"], "test.manual"),
    "DD": "access.denied",
    "DF": "door.forced",
}
"""SIA two-letter codes → the kind (or kind root) they name; codes without a clear kind
(relay states, untyped zones, status reports) are left out."""

DEVIATIONS = {
    ("146", "1"): "DC-05 names it silent burglary; pysiaalarm reads a hold-up (HA)",
    ("146", "3"): "as above (HH)",
    ("158", "1"): "a high temperature limit, not a heat detector (114 is): environmental",
    ("158", "3"): "as above",
    ("312", "1"): "power supply overcurrent has its own core kind, power.overload",
    ("312", "3"): "as above",
    ("341", "1"): "the code's own name is expansion module tamper: tamper, not ET",
    ("341", "3"): "as above",
    ("441", "1"): "Honeywell VISTA manuals: E441 = disarmed; pysiaalarm gives CG for both",
    ("456", "1"): "DC-05's 4xx rule (1 opening); pysiaalarm gives CG (closing)",
    ("456", "3"): "DC-05's 4xx rule (3 closing); pysiaalarm gives OG (opening)",
}


def _matches(kind: str | None, expected: str) -> bool:
    return kind is not None and (kind == expected or kind.startswith(expected + "."))


def test_kinds_agree_with_pysiaalarm_except_where_reasoned() -> None:
    compared = 0
    mismatches: list[Any] = []
    for code, by_qualifier in SIA["mapping"].items():
        if code not in CODES:
            continue
        for qualifier, sia in by_qualifier.items():
            expected = SIA_KIND.get(sia)
            if expected is None:
                continue
            compared += 1
            kind = CODES[code].kind_for(qualifier)
            agrees = _matches(kind, expected)
            if agrees == ((code, qualifier) in DEVIATIONS):
                mismatches.append((code, qualifier, sia, kind))
    assert mismatches == []
    assert compared > 150
