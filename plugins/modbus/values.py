"""Registers to values and back: data type, word/byte order, scale, enumerations, bit fields.

Sans-IO: a block read's registers in, one :class:`Reading` per point out. A value outside the
profile's ``min``/``max`` (or a NaN) is a *problem*, counted and not reported as telemetry;
a raw value listed in ``invalid`` (APC's 0xFFFF "not applicable") is simply no value.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.modbus.profile import DataType, Order, Point

Value = int | float | str | bool


@dataclass(frozen=True, slots=True)
class Reading:
    value: Value | None
    raw: int | float | str | None
    problem: str | None = None


def _swap(word: int) -> int:
    return ((word & 0xFF) << 8) | (word >> 8)


def combine(words: Sequence[int], word_order: Order, byte_order: Order) -> int:
    """Unsigned integer of several registers in the device's word and byte order."""
    if byte_order == "little":
        words = [_swap(w) for w in words]
    if word_order == "little":
        words = list(reversed(words))
    out = 0
    for word in words:
        out = (out << 16) | (word & 0xFFFF)
    return out


def split(value: int, count: int, word_order: Order, byte_order: Order) -> list[int]:
    """The inverse of :func:`combine`."""
    words = [(value >> (16 * (count - 1 - i))) & 0xFFFF for i in range(count)]
    if word_order == "little":
        words.reverse()
    if byte_order == "little":
        words = [_swap(w) for w in words]
    return words


def raw_value(
    point: Point, words: Sequence[int], word_order: Order, byte_order: Order
) -> int | float | str:
    t = point.type
    if t is DataType.BOOL:
        return int(bool(words[0]))
    if t is DataType.STRING:
        data = b"".join(
            (_swap(w) if byte_order == "little" else w).to_bytes(2, "big") for w in words
        )
        return data.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    unsigned = combine(words, word_order, byte_order)
    if t is DataType.S16 and unsigned >= 0x8000:
        return unsigned - 0x10000
    if t is DataType.S32 and unsigned >= 0x80000000:
        return unsigned - 0x100000000
    if t is DataType.F32:
        return float(struct.unpack(">f", unsigned.to_bytes(4, "big"))[0])
    return unsigned


def decode(point: Point, words: Sequence[int], word_order: Order, byte_order: Order) -> Reading:
    raw = raw_value(point, words, word_order, byte_order)
    if isinstance(raw, int) and raw in point.invalid:
        return Reading(None, raw)
    if point.type is DataType.BOOL:
        return Reading(bool(raw), raw)
    if isinstance(raw, str):
        return Reading(raw, raw)
    if point.enum is not None and isinstance(raw, int):
        name = point.enum.get(raw)
        if name is None:
            return Reading(None, raw, f"value {raw} is not in the enumeration")
        return Reading(name, raw)
    if point.bits is not None:
        return Reading(raw, raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        return Reading(None, raw, f"value {raw} is not a number")
    value: int | float = raw
    if point.scale is not None or point.scale_exp2 is not None or point.offset:
        value = round(raw * point.factor + point.offset, 6)
    elif isinstance(raw, float):
        value = round(raw, 6)
    if (point.min is not None and value < point.min) or (
        point.max is not None and value > point.max
    ):
        return Reading(None, raw, f"value {value!r} is outside {_range(point)}")
    return Reading(value, raw)


def encode(point: Point, value: float | bool, word_order: Order, byte_order: Order) -> list[int]:
    """Registers (or one 0/1 bit) to write ``value``; ValueError names why it cannot be."""
    t = point.type
    if t is DataType.BOOL:
        if not isinstance(value, bool) and value not in (0, 1):
            raise ValueError(f"a coil takes true or false, not {value!r}")
        return [int(bool(value))]
    if t is DataType.STRING:
        raise ValueError("writing strings is not supported")
    if isinstance(value, bool):
        value = int(value)
    if (point.min is not None and value < point.min) or (
        point.max is not None and value > point.max
    ):
        raise ValueError(f"{value!r} is outside {_range(point)}")
    scaled = (value - point.offset) / point.factor
    if t is DataType.F32:
        unsigned = int.from_bytes(struct.pack(">f", scaled), "big")
        return split(unsigned, 2, word_order, byte_order)
    raw = round(scaled)
    bits = 16 * point.size
    signed = t in (DataType.S16, DataType.S32)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= raw <= high:
        raise ValueError(f"{value:g} is raw {raw}, outside {t} ({low}..{high})")
    return split(raw & ((1 << bits) - 1), point.size, word_order, byte_order)


def _range(point: Point) -> str:
    low = "-inf" if point.min is None else f"{point.min:g}"
    high = "inf" if point.max is None else f"{point.max:g}"
    return f"{low}..{high}"
