"""Fuzzing: whatever arrives, the codec answers with a message or ContactIdError, nothing else."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.sdk.codec import CodecSpec
from plugins.contact_id.checksum import DIGITS, checksum_digit
from plugins.contact_id.codec import parse
from plugins.contact_id.errors import ContactIdError
from plugins.contact_id.hooks import CODEC, CODEC_DTMF
from tests.plugins.contact_id.helpers import ctx, vector_id, vectors

VALID = [
    vector_id(v).encode()
    for v in vectors()
    if v["expected"].get("message_type") in ("18", "98") and v["expected"].get("valid_checksum")
]


def _decode_or_error(codec: CodecSpec, data: bytes) -> None:
    try:
        decoded = codec.decode(data, ctx())
    except ContactIdError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert len(decoded.events) == 1


@settings(max_examples=500)
@given(st.binary(max_size=80))
@example(b"")
@example(b"\x00" * 16)
@example("１２３４１８１１３１０１０１５８".encode())  # full-width digits
def test_random_bytes(data: bytes) -> None:
    _decode_or_error(CODEC, data)
    _decode_or_error(CODEC_DTMF, data)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789ABCDEFabcdef*# \t\r\n_", max_size=24))
def test_random_near_digit_text(text: str) -> None:
    _decode_or_error(CODEC, text.encode())
    _decode_or_error(CODEC_DTMF, text.encode())


_MUTATION = st.tuples(
    st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 15), st.integers(0, 255)
)


@settings(max_examples=500)
@given(st.sampled_from(VALID), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_valid_frames(frame: bytes, mutations: list[tuple[str, int, int]]) -> None:
    data = bytearray(frame)
    for op, position, byte in mutations:
        position = min(position, len(data))
        if op == "replace" and position < len(data):
            data[position] = byte
        elif op == "insert":
            data.insert(position, byte)
        elif op == "delete" and position < len(data):
            del data[position]
    _decode_or_error(CODEC, bytes(data))


@given(
    st.text(alphabet=DIGITS, min_size=4, max_size=4),
    st.sampled_from(["18", "98"]),
    st.sampled_from(["1", "3", "6"]),
    st.text(alphabet=DIGITS, min_size=8, max_size=8),
)
def test_any_well_formed_message_decodes(account: str, mt: str, q: str, rest: str) -> None:
    body = account + mt + q + rest
    m = parse(body + checksum_digit(body))
    assert (m.account, m.message_type, m.qualifier) == (account, mt, q)
    assert (m.event_code, m.group, m.ccc) == (rest[:3], rest[3:5], rest[5:])


@given(st.sampled_from(VALID), st.integers(0, 15), st.sampled_from(DIGITS))
def test_any_single_digit_change_fails_the_checksum(
    frame: bytes, position: int, digit: str
) -> None:
    text = frame.decode()
    if text[position] == digit:
        return
    changed = text[:position] + digit + text[position + 1 :]
    try:
        parse(changed)
    except ContactIdError as exc:
        assert "bad checksum" in str(exc)
    else:
        raise AssertionError(f"{changed} passed the checksum")
