"""The Contact ID checksum (SIA DC-05): every digit's value summed is a multiple of 15.

Digit values: ``0`` is 10, ``1``-``9`` are themselves, ``B``-``F`` are 11-15. Hex ``A`` is never
sent because ``0`` already stands for 10. The checksum digit S makes the 16-digit sum divisible by
15 and is never 0 as a value: when the first 15 digits already sum to a multiple of 15, S is 15
(``F``), as spandsp's ``sum = ((sum + 15)/15)*15 - sum`` gives. A value of 10 is sent as ``0``.

Digits here are in hex notation (``B``-``F``); DTMF text is translated before it gets here.
"""

from __future__ import annotations

DIGITS = "0123456789BCDEF"
"""The hex-notation digits a Contact ID message may contain (upper case, no ``A``)."""

_VALUE = {"0": 10, **{str(n): n for n in range(1, 10)}, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15}
_DIGIT = {value: digit for digit, value in _VALUE.items()}


def digit_value(digit: str) -> int:
    """The checksum weight of one hex-notation digit (``0`` → 10, ``F`` → 15)."""
    try:
        return _VALUE[digit]
    except KeyError:
        raise ValueError(f"{digit!r} is not a Contact ID digit (0-9, B-F)") from None


def digit_sum(digits: str) -> int:
    return sum(digit_value(d) for d in digits)


def checksum_digit(first15: str) -> str:
    """The checksum digit S for the 15 digits before it."""
    if len(first15) != 15:
        raise ValueError(f"the checksum covers 15 digits, got {len(first15)}")
    return _DIGIT[15 - digit_sum(first15) % 15]


def checksum_ok(message: str) -> bool:
    """True when the 16 digits of ``message`` sum to a multiple of 15."""
    return len(message) == 16 and digit_sum(message) % 15 == 0
