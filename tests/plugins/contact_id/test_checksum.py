"""The mod-15 checksum, with the worked examples from the notes and the edge cases of DC-05."""

from __future__ import annotations

import pytest

from plugins.contact_id.checksum import (
    DIGITS,
    checksum_digit,
    checksum_ok,
    digit_sum,
    digit_value,
)


def test_digit_values_zero_is_ten_and_hex_b_to_f() -> None:
    assert [digit_value(d) for d in "0123456789BCDEF"] == [10, *range(1, 10), 11, 12, 13, 14, 15]


def test_hex_a_and_others_have_no_value() -> None:
    for bad in ("A", "a", "*", "_", " "):
        with pytest.raises(ValueError, match="not a Contact ID digit"):
            digit_value(bad)


def test_cooper_worked_example() -> None:
    # 1+2+3+4+1+8+1+1+3+7+10+1+10+1+5 = 58; 58 + 2 = 60
    assert digit_sum("123418113701015") == 58
    assert checksum_digit("123418113701015") == "2"
    assert checksum_ok("1234181137010152")


def test_sum_already_divisible_gives_f_never_zero() -> None:
    assert digit_sum("123418313701015") % 15 == 0
    assert checksum_digit("123418313701015") == "F"


def test_value_ten_is_sent_as_zero() -> None:
    body = "123418113101009"  # sums to 65 = 4*15 + 5: S = 10, written 0
    assert digit_sum(body) == 65
    assert checksum_digit(body) == "0"
    assert checksum_ok(body + "0")


def test_every_checksum_digit_is_reachable_and_verifies() -> None:
    seen = set()
    for last in DIGITS:
        body = "12341811310101" + last
        s = checksum_digit(body)
        seen.add(s)
        assert checksum_ok(body + s)
    assert seen == set(DIGITS)


def test_checksum_needs_fifteen_digits() -> None:
    with pytest.raises(ValueError, match="15 digits"):
        checksum_digit("1234")
    assert not checksum_ok("123418113101015")
