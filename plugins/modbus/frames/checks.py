"""Modbus check sums: CRC-16/MODBUS for RTU, LRC for ASCII."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    out = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        out.append(crc)
    return tuple(out)


_CRC_TABLE = _table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF, no xorout; check("123456789")=0x4B37.

    On the wire the low byte goes first (Modbus over serial line V1.02 §2.5.1.2).
    """
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def lrc(data: bytes) -> int:
    """LRC of Modbus ASCII: the two's complement of the byte sum, modulo 256."""
    return (-sum(data)) & 0xFF
