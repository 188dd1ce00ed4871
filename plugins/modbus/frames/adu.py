"""Modbus ADUs: RTU (unit + PDU + CRC), ASCII (``:`` hex LRC CRLF) and TCP (MBAP + PDU).

Rules quoted from "MODBUS over serial line V1.02" and "MODBUS Messaging on TCP/IP V1.0b".
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any

from plugins.modbus.frames.checks import crc16_modbus, lrc
from plugins.modbus.frames.errors import FrameError
from plugins.modbus.frames.pdu import Pdu, decode_pdu

MAX_RTU_ADU = 256
"""Serial line §2.5.1: "The maximum size of a MODBUS RTU frame is 256 bytes"."""
MAX_TCP_ADU = 260
"""TCP/IP §4.1: MBAP (7) + PDU (253)."""
MAX_ASCII_ADU = 513
"""Serial line §2.5.2.1: 513 characters including ':' and CRLF."""


@dataclass(frozen=True)
class Adu:
    framing: str
    unit: int
    pdu: Pdu
    transaction_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"framing": self.framing, "unit": self.unit}
        if self.transaction_id is not None:
            out["transaction_id"] = self.transaction_id
        if self.unit == 0:
            out["broadcast"] = True
        elif self.unit >= 248:
            out["reserved_unit"] = True
        out.update(self.pdu.to_dict())
        return out


def encode_rtu(unit: int, pdu: bytes) -> bytes:
    """``unit PDU CRC`` with the CRC's low byte first."""
    body = bytes([unit]) + pdu
    return body + crc16_modbus(body).to_bytes(2, "little")


def encode_tcp(transaction_id: int, unit: int, pdu: bytes) -> bytes:
    return (
        transaction_id.to_bytes(2, "big")
        + b"\x00\x00"
        + (len(pdu) + 1).to_bytes(2, "big")
        + bytes([unit])
        + pdu
    )


def decode_rtu(frame: bytes) -> Adu:
    if len(frame) < 4:
        raise FrameError(f"RTU frame of {len(frame)} bytes is too short (unit, FC, CRC: 4 bytes)")
    if len(frame) > MAX_RTU_ADU:
        raise FrameError(f"RTU frame of {len(frame)} bytes exceeds {MAX_RTU_ADU}")
    body, wire = frame[:-2], int.from_bytes(frame[-2:], "little")
    calc = crc16_modbus(body)
    if wire != calc:
        raise FrameError(f"bad CRC: frame carries {wire:04X}, computed {calc:04X}")
    return Adu("rtu", body[0], decode_pdu(body[1:]))


def decode_tcp(frame: bytes) -> Adu:
    if len(frame) < 8:
        raise FrameError(f"TCP frame of {len(frame)} bytes is too short (MBAP 7 + FC)")
    if len(frame) > MAX_TCP_ADU:
        raise FrameError(f"TCP frame of {len(frame)} bytes exceeds {MAX_TCP_ADU}")
    tid = int.from_bytes(frame[0:2], "big")
    protocol = int.from_bytes(frame[2:4], "big")
    length = int.from_bytes(frame[4:6], "big")
    if protocol != 0:
        raise FrameError(f"MBAP protocol id must be 0 (Modbus), is {protocol}")
    if length != len(frame) - 6:
        raise FrameError(
            f"MBAP length says {length} bytes (unit + PDU), the frame has {len(frame) - 6}"
        )
    return Adu("tcp", frame[6], decode_pdu(frame[7:]), transaction_id=tid)


def decode_ascii(frame: bytes) -> Adu:
    text = frame.rstrip(b"\r\n")  # CRLF ends the frame; a line reader may leave the CR
    if not text.startswith(b":"):
        raise FrameError("ASCII frame must start with ':'")
    if len(frame) > MAX_ASCII_ADU:
        raise FrameError(f"ASCII frame of {len(frame)} characters exceeds {MAX_ASCII_ADU}")
    digits = text[1:]
    if len(digits) % 2 or len(digits) < 6:
        raise FrameError(
            f"ASCII frame needs an even number (>= 6) of hex digits, has {len(digits)}"
        )
    try:
        raw = binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        raise FrameError("ASCII frame holds characters that are not hex digits") from None
    body, wire = raw[:-1], raw[-1]
    calc = lrc(body)
    if wire != calc:
        raise FrameError(f"bad LRC: frame carries {wire:02X}, computed {calc:02X}")
    return Adu("ascii", body[0], decode_pdu(body[1:]))
