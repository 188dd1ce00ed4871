"""CRC-16/ARC, the DC-09 frame check, from a table computed once at import.

DC-09 (after DC-07): poly 0x8005 reflected (0xA001), init 0x0000, reflected in and out, no final
xor; check("123456789") = 0xBB3D. The table is built here rather than copied because DC-07's
printed table has a typo at entry 101 (0xEB01, printed 0xBE01: North Latitude's DC-09 Q&A).
"""

from __future__ import annotations

import sys

POLY_REFLECTED = 0xA001
CHECK = 0xBB3D
"""CRC-16/ARC of ``b"123456789"`` (the CRC catalogue's check value)."""


def _entry(byte: int) -> int:
    crc = byte
    for _ in range(8):
        crc = (crc >> 1) ^ POLY_REFLECTED if crc & 1 else crc >> 1
    return crc


TABLE: tuple[int, ...] = tuple(_entry(n) for n in range(256))

# Two bytes a step: the register is 16 bits wide, so once a 16-bit word is XORed in, two zero
# bytes' worth of shifting is all that is left, and a 65,536-entry table holds the outcome:
# WORD_TABLE[lo | hi << 8] = (TABLE[lo] >> 8) ^ TABLE[(hi ^ TABLE[lo]) & 0xFF]. 2.5 times the
# speed of the byte loop on a frame (1.7 against 4.2 µs; two CRCs a frame, its check and its
# answer's), for ~2 MB of table built in a few milliseconds at import.
WORD_TABLE: tuple[int, ...] = tuple(
    (TABLE[lo] >> 8) ^ TABLE[(hi ^ TABLE[lo]) & 0xFF] for hi in range(256) for lo in range(256)
)
_WORDS = sys.byteorder == "little"  # the words are read in the machine's byte order


def crc16_arc(data: bytes, crc: int = 0) -> int:
    """The CRC of ``data``; pass a previous result as ``crc`` to continue over more bytes."""
    table = TABLE  # locals: the loops run for every frame and every answer
    crc &= 0xFFFF
    if _WORDS and isinstance(data, bytes | bytearray):
        words = WORD_TABLE
        even = len(data) & ~1
        for word in memoryview(data)[:even].cast("H"):
            crc = words[crc ^ word]
        data = data[even:]
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc
