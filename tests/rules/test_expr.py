"""The predicate language: what it accepts, what it computes, what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.rules.expr import ExpressionError, compile_expression

SCOPE: dict[str, Any] = {
    "kind": "intrusion.perimeter",
    "priority": 2,
    "source": "hq/panel-1/zone-3",
    "zone": "3",
    "area": None,
    "data": {"level": 3, "tags": ["night", "vault"], "nested": {"x": "Door"}, "on": True},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data.level >= 3", True),
        ("data.level > 3", False),
        ("data.level == 3 and priority <= 2", True),
        ("data.level == 4 or zone == '3'", True),
        ("not data.on", False),
        ("'vault' in data.tags", True),
        ("'attic' not in data.tags", True),
        ("zone in ['1', '2', \"3\"]", True),
        ("data.missing == null", True),
        ("data.missing > 2", False),  # null cannot be ordered: false, not an error
        ("data.nested.x < 3", False),  # a string and a number cannot be ordered
        ("area == null", True),
        ("lower(data.nested.x) == 'door'", True),
        ("glob(source, 'hq/panel-1/*')", True),
        ("startswith(kind, 'intrusion.')", True),
        ("len(data.tags) == 2", True),
        ("data.tags[1] == 'vault'", True),
        ("data.tags[5] == null", True),
        ("data['level'] == 3", True),
        ("data.level == -1 or (priority == 2 and not (zone == '4'))", True),
        ("data.__class__ == null", True),  # keys are only ever looked up in dicts
        ("'tr' in 'intrusion'", True),
        ("data.on == true", True),
        ("data.level == 3.0", True),
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    assert compile_expression(text)(SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty expression"),
        ("data.level >", "expected a value, found the end at column 13"),
        ("data.level = 3", "unexpected character '=' at column 12"),
        ("os.system('x')", "unknown name 'os'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("eval('1')", "unknown function 'eval'"),
        ("glob(source)", "glob() takes 2 argument(s), got 1"),
        ("(zone == '3'", "expected ')'"),
        ("zone == '3' zone", "unexpected 'zone' at column 13"),
        ("data.", "expected a field name after '.'"),
        ("data[1.5]", "expected a string or integer index"),
        ("zone == 'x' and", "expected a value, found the end"),
        ("zone ; 1", "unexpected character ';'"),
    ],
)
def test_errors_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as err:
        compile_expression(text)
    assert message in str(err.value)
