"""Fuzzing: whatever arrives, parse_frame and FrameSplitter answer with Dc09Error, nothing else.

Mutations of valid frames mostly die at the CRC, so a second family re-computes CRC and length
after mutating: those reach the token, header, block, timestamp and decryption code.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from plugins.sia_dc09.dc09 import (
    Dc09Error,
    FrameSplitter,
    Key,
    Variants,
    build_frame,
    parse_frame,
)
from tests.plugins.sia_dc09.helpers import ASCII_KEYS, NOW, frame_bytes, kind, vectors, with_crc

KEY = Key.from_ascii(ASCII_KEYS[128])
VARIANTS = [
    Variants(),
    Variants.lenient(),
    Variants(trailing_nuls=False, data_without_account=False, pad_without_bar=False),
]
VALID = [frame_bytes(v) for v in vectors() if kind(v) in ("frame", "encrypted", "binary_crc")] + [
    build_frame(
        "SIA-DCS", 1, "1234", "#1234|Nri1/BA012", xdata={"K": "", "X": "1"}, timestamp=NOW, key=KEY
    ),
    build_frame("ADM-CID", 2, "1234", "#1234|1130 01 015", receiver="5", timestamp=NOW),
    build_frame("NULL", 0, "1234", timestamp=NOW, key=KEY),
    build_frame("NULL", 0, "41213", receiver="8", binary_crc=True),
]


def parse_or_error(data: bytes) -> None:
    for variants in VARIANTS:
        try:
            message = parse_frame(data, keys=lambda account: KEY, variants=variants)
        except Dc09Error as exc:
            assert str(exc) and "\n" not in str(exc)
            assert exc.reason.response in ("NAK", "DUH")
        else:
            message.to_dict()


@settings(max_examples=600)
@given(st.binary(max_size=300))
@example(b"")
@example(b"\n\r")
@example(b"\x00" * 10)
@example(b'\n0000"\r')
@example(b'00000000"*NULL"0000L0#123[')
def test_random_bytes(data: bytes) -> None:
    parse_or_error(data)


_MUTATION = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "cut"]),
    st.integers(0, 200),
    st.integers(0, 255),
)


def mutate(frame: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(frame)
    for op, position, byte in mutations:
        position = min(position, len(data))
        if op == "replace" and position < len(data):
            data[position] = byte
        elif op == "insert":
            data.insert(position, byte)
        elif op == "delete" and position < len(data):
            del data[position]
        elif op == "cut":
            del data[position:]
    return bytes(data)


@settings(max_examples=600)
@given(st.sampled_from(VALID), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_valid_frames(frame: bytes, mutations: list[tuple[str, int, int]]) -> None:
    parse_or_error(mutate(frame, mutations))


@settings(max_examples=800)
@given(st.sampled_from(VALID), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_regions_with_correct_crc_and_length(
    frame: bytes, mutations: list[tuple[str, int, int]]
) -> None:
    body = frame.strip(b"\n\r")
    start = body.find(b'"')
    parse_or_error(with_crc(mutate(body[start:], mutations)))


@settings(max_examples=300)
@given(
    st.sampled_from(['"*SIA-DCS"0001L0#1234[', '"*NULL"0000L0#1234[', '"*ADM-CID"0001R1L0#1234[']),
    st.binary(min_size=0, max_size=96),
)
def test_random_ciphertext(head: str, cipher: bytes) -> None:
    parse_or_error(with_crc(head.encode() + cipher.hex().upper().encode()))


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=200), max_size=10), st.integers(8, 300), st.booleans())
def test_splitter_takes_anything(chunks: list[bytes], max_frame: int, binary_crc: bool) -> None:
    s = FrameSplitter(max_frame=max_frame, binary_crc=binary_crc)
    for chunk in chunks:
        for item in s.feed(chunk):
            if isinstance(item, bytes):
                assert item[:1] == b"\n" and item[-1:] == b"\r" and len(item) <= max_frame
                parse_or_error(item)
            else:
                assert isinstance(item, Dc09Error)
        assert s.buffered < max_frame


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(VALID), max_size=6),
    st.lists(_MUTATION, max_size=6),
    st.integers(1, 64),
)
def test_splitter_on_damaged_streams(
    frames: list[bytes], mutations: list[tuple[str, int, int]], step: int
) -> None:
    stream = mutate(b"".join(b"\n" + f.strip(b"\n\r") + b"\r" for f in frames), mutations)
    s = FrameSplitter()
    for pos in range(0, len(stream), step):
        for item in s.feed(stream[pos : pos + step]):
            if isinstance(item, bytes):
                parse_or_error(item)
