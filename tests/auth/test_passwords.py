"""Weak passwords are refused, each with its own reason; hashes are argon2id."""

from __future__ import annotations

import argon2
import pytest

from gateway.auth import WeakPasswordError, check_password, hash_password, verify_password
from gateway.auth.passwords import MAX_LENGTH, needs_rehash
from tests.auth.helpers import OTHER_STRONG, STRONG


@pytest.mark.parametrize(
    ("user", "password", "code", "says"),
    [
        ("alice", "kq8-Vz3", "too_short", "shorter than 8"),
        ("alice", "", "too_short", "shorter than 8"),
        ("alice", "a1" * (MAX_LENGTH // 2 + 1), "too_long", "longer than"),
        ("alice", "84629137205", "no_letter", "no letter"),
        ("alice", "5-7-3-1-9-2-8", "no_letter", "no letter"),
        ("alice", "kq-Vzm-Pwxy", "no_digit", "no digit"),
        ("agent007x", "agent007x", "contains_user", "user name"),  # equal
        ("agent007x", "AGENT007X", "contains_user", "user name"),  # equal but for case
        ("alice", "my-Alice-2024!", "contains_user", "user name"),  # contains
        ("alice", "password1", "guessable", "too easy to guess"),
        ("alice", "Password123", "guessable", "too easy to guess"),
        ("alice", "iloveyou12", "guessable", "too easy to guess"),
        ("alice", "qwertyuiop1", "guessable", "too easy to guess"),
        ("alice", "aaaaaaaaaaaa1", "guessable", "too easy to guess"),
        # fine on its own (zxcvbn score 3), weak for this user: the name is one of its inputs
        ("przybylski", "przyby1ski", "guessable", "too easy to guess"),
    ],
)
def test_weak_password_refused_with_its_reason(
    user: str, password: str, code: str, says: str
) -> None:
    with pytest.raises(WeakPasswordError) as refused:
        check_password(user, password)
    assert refused.value.code == code
    assert says in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_name_only_counts_for_its_own_user() -> None:
    check_password("nowak", "przyby1ski")


@pytest.mark.parametrize("password", [STRONG, OTHER_STRONG, "Tr0ub4dor&3", "ł0dź-Żółw-Kąt9"])
def test_strong_password_accepted(password: str) -> None:
    check_password("alice", password)


def test_a_guessable_refusal_says_what_zxcvbn_saw() -> None:
    with pytest.raises(WeakPasswordError, match="common password"):
        check_password("alice", "password1")


def test_long_passphrase_is_rated_on_its_first_72_characters() -> None:
    check_password("alice", STRONG * 20)  # longer than zxcvbn takes; no crash


def test_argon2_round_trip() -> None:
    encoded = hash_password(STRONG)
    assert encoded.startswith("$argon2id$")
    assert STRONG not in encoded
    assert hash_password(STRONG) != encoded  # salted
    assert verify_password(encoded, STRONG)
    assert not verify_password(encoded, STRONG + "x")
    assert not verify_password(encoded, "")
    assert not needs_rehash(encoded)


def test_a_malformed_hash_is_a_mismatch() -> None:
    assert not verify_password("not-a-hash", STRONG)
    assert needs_rehash("not-a-hash")


def test_weaker_parameters_need_a_rehash() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(STRONG)
    assert verify_password(weak, STRONG)
    assert needs_rehash(weak)
