"""CRC-16/ARC against the catalogue's check value, a bitwise reference and pysiaalarm's own code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pysiaalarm.event import BaseEvent

from plugins.sia_dc09.dc09.crc import CHECK, TABLE, crc16_arc
from tests.plugins.sia_dc09.helpers import kind, vectors


def bitwise(data: bytes) -> int:
    """The loop printed in the protocol notes, bit by bit."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_check_value() -> None:
    assert crc16_arc(b"123456789") == CHECK == 0xBB3D
    assert crc16_arc(b"") == 0


def test_check_vector_from_the_file() -> None:
    (vector,) = [v for v in vectors() if kind(v) == "crc_check"]
    assert f"{crc16_arc(vector['input'].encode()):04X}" == vector["expected"]["crc16_arc"]


def test_table_entry_101_is_not_dc07s_typo() -> None:
    """North Latitude: DC-07's printed table has 0xBE01 at entry 101 where 0xEB01 belongs."""
    assert TABLE[100] == 0xEB01  # entry 101 counting from 1
    assert len(TABLE) == 256 and TABLE[0] == 0 and TABLE[1] == 0xC0C1


def test_continuation() -> None:
    assert crc16_arc(b"56789", crc16_arc(b"1234")) == CHECK


@given(st.binary(max_size=300))
def test_table_matches_the_bitwise_reference(data: bytes) -> None:
    assert crc16_arc(data) == bitwise(data)


@given(st.binary(max_size=100), st.binary(max_size=100))
def test_continuation_over_any_split(head: bytes, tail: bytes) -> None:
    assert crc16_arc(tail, crc16_arc(head)) == bitwise(head + tail)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_matches_pysiaalarm(text: str) -> None:
    """pysiaalarm's ``_crc_calc`` is an independent implementation (upper-case, zero-filled)."""
    assert BaseEvent._crc_calc(text) == f"{crc16_arc(text.encode()):04X}"
