"""CRC-16/ARC, the DC-09 frame check, from a table computed once at import.

DC-09 (after DC-07): poly 0x8005 reflected (0xA001), init 0x0000, reflected in and out, no final
xor; check("123456789") = 0xBB3D. The table is built here rather than copied because DC-07's
printed table has a typo at entry 101 (0xEB01, printed 0xBE01: North Latitude's DC-09 Q&A).
"""

from __future__ import annotations

POLY_REFLECTED = 0xA001
CHECK = 0xBB3D
"""CRC-16/ARC of ``b"123456789"`` (the CRC catalogue's check value)."""


def _entry(byte: int) -> int:
    crc = byte
    for _ in range(8):
        crc = (crc >> 1) ^ POLY_REFLECTED if crc & 1 else crc >> 1
    return crc


TABLE: tuple[int, ...] = tuple(_entry(n) for n in range(256))


def crc16_arc(data: bytes, crc: int = 0) -> int:
    """The CRC of ``data``; pass a previous result as ``crc`` to continue over more bytes."""
    table = TABLE  # a local: the loop runs once per byte of every frame and every answer
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc
