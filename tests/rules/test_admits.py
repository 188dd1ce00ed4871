"""The engine's fast test (``admits``) and the explained one (``check_when``) never disagree."""

from __future__ import annotations

import itertools

from gateway.model.entities import Area
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.rules.compiled import CompiledRule, event_scope
from gateway.rules.facts import StaticFacts
from gateway.rules.model import Rule

THEN = [{"event": {"kind": "intrusion.verified"}}]
WHENS = [
    {"kind": "intrusion"},
    {"kind": "intrusion", "phase": "alarm"},
    {"kind": "intrusion", "phase": ["restore", "status"]},
    {"kind": "intrusion", "max_priority": 1},
    {"kind": "intrusion", "source": "hq/panel-1/zone-[12]"},
    {"kind": "intrusion", "area": "vault"},
    {"kind": "intrusion", "area": ["lobby", "vault"], "where": "data.level >= 2"},
    {"kind": "intrusion", "where": "zone in ['1', '3'] and priority <= 2"},
]


def test_admits_agrees_with_check_when_on_every_combination() -> None:
    facts = StaticFacts(
        "hq",
        areas={"vault": Area(site="hq", name="vault", device="hq/panel-1", local_id="1")},
        point_areas={"hq/panel-1/zone-3": "vault"},
    )
    rules = [
        CompiledRule(Rule.model_validate({"name": f"r{i}", "when": w, "then": THEN}), "UTC")
        for i, w in enumerate(WHENS)
    ]
    events = [
        Event(
            kind="intrusion",
            phase=phase,
            priority=priority,
            source=f"hq/panel-1/zone-{zone}",
            zone=str(zone),
            area=area,
            data={"level": level},
        )
        for phase, priority, zone, area, level in itertools.product(
            [Phase.ALARM, Phase.RESTORE], [1, 2, 3], [1, 2, 3], [None, "1", "lobby"], [1, 2]
        )
    ]
    admitted = 0
    for rule in rules:
        for event in events:
            scope = event_scope(event)
            fast = rule.admits(event, scope, facts)
            assert fast == (rule.check_when(event, scope, facts) is None), (rule.name, event)
            admitted += fast
    assert 0 < admitted < len(rules) * len(events)


def test_predicates_name_the_equality_tests_they_need() -> None:
    from gateway.rules.expr import Guard, compile_with_guards

    def guards(text: str) -> list[Guard]:
        return compile_with_guards(text)[1]

    assert guards("data.slot == 3") == [Guard("data", ("slot",), 3)]
    assert guards("'7' == zone and data.level >= 2 and (data['a'][0] == true)") == [
        Guard("zone", (), "7"),
        Guard("data", ("a", 0), True),
    ]
    assert guards("data.x == -2 and not (zone == '1')") == [Guard("data", ("x",), -2)]
    # not needed by the whole expression: no guard
    assert guards("data.slot == 3 or zone == '1'") == []
    assert guards("not (data.slot == 3)") == []
    assert guards("data.slot != 3") == []
    assert guards("data.a == data.b") == []
    assert guards("lower(text) == 'x'") == []


def test_the_index_leaves_out_only_rules_that_cannot_match() -> None:
    """Rules filed by their equality tests meet exactly the events whose predicate holds, in
    config order, including odd values (lists, booleans against numbers, missing keys)."""
    from gateway.rules.index import KindIndex

    wheres = [
        None,
        "data.slot == 1",
        "data.slot == 2 and priority <= 2",
        "data.slot == 1.0",
        "data.slot == true",
        "zone == '3'",
        "data.slot == 2 or zone == '1'",
        "data.slot == null",
        "data.nested.k == 'v'",
        "data.slot == '1'",
    ]
    rules = []
    for i, where in enumerate(wheres):
        when: dict[str, object] = {"kind": "intrusion"}
        if where is not None:
            when["where"] = where
        rules.append(
            CompiledRule(Rule.model_validate({"name": f"r{i}", "when": when, "then": THEN}), "UTC")
        )
    index = KindIndex(rules)
    facts = StaticFacts("hq")
    values: list[object] = [None, 1, 2, 1.0, True, False, "1", [1], {"a": 1}, 0]
    checked = 0
    for slot, zone, nested, priority in itertools.product(
        values, ["1", "3", None], [{"k": "v"}, {"k": ["v"]}, None], [1, 3]
    ):
        data: dict[str, object] = {"nested": nested}
        if slot is not None:
            data["slot"] = slot
        event = Event(
            kind="intrusion",
            phase=Phase.ALARM,
            priority=priority,
            source="hq/p/z",
            zone=zone,
            data=data,
        )
        scope = event_scope(event)
        expected = [r.name for r in index.candidates("intrusion") if r.admits(event, scope, facts)]
        found = [
            r.name for r in index.narrowed("intrusion", scope) if r.admits(event, scope, facts)
        ]
        assert found == expected, (slot, zone, nested, priority)
        checked += bool(expected)
    assert checked > 0
    narrowed = index.narrowed(
        "intrusion",
        event_scope(
            Event(
                kind="intrusion", phase=Phase.ALARM, priority=2, source="hq/p/z", data={"slot": 2}
            )
        ),
    )
    assert len(narrowed) < len(rules)  # it does narrow
