"""FrameBuffer against what a real multiprocessing pipe carries."""

from __future__ import annotations

import multiprocessing
import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.journal.pipe_frames import FrameBuffer, frame


def _wire(messages: list[bytes]) -> bytes:
    """The bytes ``Connection.send_bytes`` puts in a real pipe for these messages."""
    reader, writer = multiprocessing.Pipe(duplex=False)
    try:
        for message in messages:
            writer.send_bytes(message)
        writer.close()
        chunks = []
        while chunk := os.read(reader.fileno(), 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        reader.close()


def test_messages_of_every_size_class_come_out_whole_and_in_order() -> None:
    # 16 KiB and more are sent as header and body in two writes; the reader must not care
    messages = [b"", b"x", bytes(range(256)) * 64, b"y" * 16385, b"last"]
    assert FrameBuffer().feed(_wire(messages)) == messages


@given(st.lists(st.binary(max_size=300), max_size=8), st.data())
def test_any_split_of_the_stream_gives_the_same_messages(
    messages: list[bytes], data: st.DataObject
) -> None:
    wire = _wire(messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    frames = FrameBuffer()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        out.extend(frames.feed(wire[start:end]))
    assert out == messages
    assert frames.partial == 0


def test_a_message_cut_short_stays_partial() -> None:
    wire = _wire([b"abcdef"])
    frames = FrameBuffer()
    assert frames.feed(wire[:-2]) == []
    assert frames.partial == len(wire) - 2
    assert frames.feed(wire[-2:]) == [b"abcdef"]


def test_the_long_length_form_is_read() -> None:
    assert FrameBuffer().feed(struct.pack("!iQ", -1, 3) + b"abc") == [b"abc"]


def test_a_negative_length_is_refused() -> None:
    with pytest.raises(ValueError, match="length of -5"):
        FrameBuffer().feed(struct.pack("!i", -5))


def test_what_frame_writes_reads_back_with_recv_bytes() -> None:
    reader, writer = multiprocessing.Pipe(duplex=False)
    try:
        for message in (b"", b"abc", b"z" * 20000):
            data = frame(message)
            assert os.write(writer.fileno(), data) == len(data)
            assert reader.recv_bytes() == message
    finally:
        reader.close()
        writer.close()
