"""Roles are ordered viewer < operator < admin, and never compared as plain strings."""

from __future__ import annotations

import operator

import pytest

from gateway.auth import Principal, Role


def test_order_is_by_permission_not_alphabet() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.ADMIN
    assert Role.ADMIN > Role.VIEWER
    assert Role.ADMIN >= Role.ADMIN
    assert sorted([Role.ADMIN, Role.VIEWER, Role.OPERATOR]) == [
        Role.VIEWER,
        Role.OPERATOR,
        Role.ADMIN,
    ]
    assert max(Role) is Role.ADMIN
    assert min(Role.OPERATOR, Role.ADMIN) is Role.OPERATOR


@pytest.mark.parametrize(
    ("held", "required", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.OPERATOR, False),
        (Role.VIEWER, Role.ADMIN, False),
        (Role.OPERATOR, Role.VIEWER, True),
        (Role.OPERATOR, Role.OPERATOR, True),
        (Role.OPERATOR, Role.ADMIN, False),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.OPERATOR, True),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_allows(held: Role, required: Role, allowed: bool) -> None:
    assert held.allows(required) is allowed
    assert Principal("someone", held, "token").allows(required) is allowed


def test_comparing_with_a_plain_string_is_an_error() -> None:
    with pytest.raises(TypeError):
        assert Role.ADMIN > "viewer"
    with pytest.raises(TypeError):
        assert operator.lt("viewer", Role.ADMIN)  # the reflected comparison


def test_parses_and_prints_as_its_value() -> None:
    assert Role("operator") is Role.OPERATOR
    assert str(Role.ADMIN) == "admin"
    as_text: str = Role.ADMIN
    assert as_text == "admin"  # stored and sent as its plain value
