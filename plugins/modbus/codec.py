"""The codecs offered to ``anfang decode`` and the conformance kit: one captured ADU per line.

A frame alone says nothing canonical (which UPS, which profile), so these decoders return the
protocol fields only and no events; the live plugin maps readings through the device's profile.
"""

from __future__ import annotations

from pathlib import Path

from gateway.sdk.codec import CodecSpec, DecodeContext, Decoded
from plugins.modbus.frames import FrameError, decode_ascii, decode_rtu, decode_tcp

VECTORS = Path(__file__).parent / "frames"


def decode_rtu_frame(frame: bytes, ctx: DecodeContext) -> Decoded:
    return Decoded(decode_rtu(frame).to_dict(), [])


def decode_tcp_frame(frame: bytes, ctx: DecodeContext) -> Decoded:
    return Decoded(decode_tcp(frame).to_dict(), [])


def decode_ascii_frame(frame: bytes, ctx: DecodeContext) -> Decoded:
    return Decoded(decode_ascii(frame).to_dict(), [])


CODECS = (
    CodecSpec(
        name="modbus-rtu",
        description="Modbus RTU ADU (unit, PDU, CRC-16) as captured on a serial line; use --hex",
        decode=decode_rtu_frame,
        error=FrameError,
        vectors=VECTORS / "vectors_rtu.json",
    ),
    CodecSpec(
        name="modbus-tcp",
        description="Modbus TCP ADU (MBAP header + PDU) as captured on port 502; use --hex",
        decode=decode_tcp_frame,
        error=FrameError,
        vectors=VECTORS / "vectors_tcp.json",
    ),
    CodecSpec(
        name="modbus-ascii",
        description="Modbus ASCII ADU (':' hex LRC CRLF); one frame per line, --json for CRLF",
        decode=decode_ascii_frame,
        error=FrameError,
        vectors=VECTORS / "vectors_ascii.json",
    ),
)
