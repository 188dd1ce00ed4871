"""FrameSplitter: several frames per read, one frame over many reads, junk, oversize, resync."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.sia_dc09.dc09 import (
    Dc09Error,
    FrameSplitter,
    Reason,
    Variants,
    build_frame,
    build_nak,
    parse_frame,
)
from tests.plugins.sia_dc09.helpers import NOW

A = build_frame("SIA-DCS", 1, "1234", "#1234|Nri1/BA012", timestamp=NOW)
B = build_frame("ADM-CID", 2, "1234", "#1234|1130 01 015", receiver="5")
C = build_frame("NULL", 0, "1234")
BINARY = build_frame("NULL", 0, "41213", receiver="8", binary_crc=True)


def frames(out: list[bytes | Dc09Error]) -> list[bytes]:
    return [f for f in out if isinstance(f, bytes)]


def errors(out: list[bytes | Dc09Error]) -> list[Reason]:
    return [e.reason for e in out if isinstance(e, Dc09Error)]


def test_several_frames_in_one_read() -> None:
    s = FrameSplitter()
    assert s.feed(A + B + C) == [A, B, C]
    assert s.buffered == 0 and s.discarded == 0


def test_byte_by_byte() -> None:
    s = FrameSplitter()
    out: list[bytes | Dc09Error] = []
    for i in range(len(A + B)):
        out += s.feed((A + B)[i : i + 1])
    assert out == [A, B]


def test_split_across_reads() -> None:
    s = FrameSplitter()
    assert s.feed(A[:10]) == []
    assert s.buffered == 10
    assert s.feed(A[10:] + B[:3]) == [A]
    assert s.feed(B[3:]) == [B]


def test_junk_and_nuls_between_frames_are_dropped_and_counted() -> None:
    s = FrameSplitter()
    out = s.feed(b"garbage" + A + b"\x00\x00" + B + b"\r\r  ")
    assert out == [A, B]
    assert s.discarded == len(b"garbage") + 2 + 4


def test_frame_cut_short_by_a_new_lf() -> None:
    s = FrameSplitter()
    out = s.feed(A[:20] + B)
    assert errors(out) == [Reason.FORMAT] and frames(out) == [B]
    assert "cut short" in str(out[0])


def test_oversize_is_reported_once_then_resync_at_lf() -> None:
    s = FrameSplitter(max_frame=64)
    out = s.feed(b"\n" + b"A" * 200)
    out += s.feed(b"B" * 500)
    assert errors(out) == [Reason.TOO_LONG] and s.buffered == 0
    out = s.feed(b"C" * 10 + b"\r" + C)  # the CR of the long frame is skipped, C is whole
    assert out == [C]


def test_oversize_complete_frame_in_one_read() -> None:
    s = FrameSplitter(max_frame=40)
    out = s.feed(A + C)
    assert errors(out) == [Reason.TOO_LONG] and frames(out) == [C]


def test_buffer_stays_bounded() -> None:
    s = FrameSplitter(max_frame=100)
    for _ in range(50):
        s.feed(b"\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
        assert s.buffered < 100


def test_binary_crc_bytes_are_not_delimiters() -> None:
    """A binary CRC may contain 0x0A or 0x0D; with the variant on they are part of the frame."""
    for crc in (b"\n\r", b"\r\n", b"\r\x01", b"\n\n"):
        frame = b"\n" + crc + BINARY[3:]
        s = FrameSplitter(binary_crc=True)
        assert s.feed(A + frame + B) == [A, frame, B]
    real = [
        f
        for f in (build_frame("NULL", n, "41213", binary_crc=True) for n in range(3000))
        if b"\r" in f[1:3] or b"\n" in f[1:3]
    ]
    assert real, "some sequence number gives a CRC byte of 0x0A or 0x0D"
    s = FrameSplitter(binary_crc=True)
    assert s.feed(b"".join(real)) == real
    for f in real:
        parse_frame(f, variants=Variants(binary_crc=True))


def test_responses_split_too() -> None:
    nak = build_nak(NOW)
    assert FrameSplitter().feed(nak + nak) == [nak, nak]


def test_max_frame_must_be_sane() -> None:
    with pytest.raises(ValueError):
        FrameSplitter(max_frame=2)


@given(
    st.lists(st.sampled_from([A, B, C]), max_size=8),
    st.lists(st.integers(1, 40), min_size=1, max_size=30),
    st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"")),
)
def test_any_chunking_gives_the_same_frames(
    sent: list[bytes], sizes: list[int], junk: bytes
) -> None:
    stream = junk.join(sent) + junk
    s = FrameSplitter()
    out: list[bytes | Dc09Error] = []
    pos, i = 0, 0
    while pos < len(stream):
        size = sizes[i % len(sizes)]
        out += s.feed(stream[pos : pos + size])
        pos, i = pos + size, i + 1
    assert out == sent
