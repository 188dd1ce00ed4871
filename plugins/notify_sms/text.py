"""The SMS text: subject and body, cut to a number of segments with the alphabet in mind.

A single SMS holds 160 characters of the GSM 03.38 alphabet, or 70 of anything else (the
message then goes as UCS-2: two bytes per character, 140 bytes). Split into parts, each part
loses room to its header: 153 and 67 (3GPP TS 23.040 §9.2.3.24.1). Chinese text is UCS-2, so
a one-segment alarm SMS carries 70 characters.
"""

from __future__ import annotations

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 7-bit default alphabet: one septet each."""

GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
"""The extension table (an escape, then the character): two septets each. Escalation texts
start with ``[hold-up grade 1]``; measured as UCS-2 they were cut to 70 characters, losing
where the alarm was, when 160 septets hold them."""


def _is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def _cost(char: str, gsm: bool) -> int:
    """Septets of a GSM character, or UTF-16 code units (a character beyond the BMP is two)."""
    if gsm:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def per_segment(gsm: bool) -> tuple[int, int]:
    """(units in a single message, units per part of a longer one): septets for GSM text,
    UTF-16 code units otherwise."""
    return (160, 153) if gsm else (70, 67)


def sms_text(subject: str, body: str, max_segments: int) -> str:
    """``subject: body`` on one message's worth of segments, cut with an ellipsis if longer."""
    text = subject.strip()
    rest = " ".join(body.split())
    if rest:
        text = f"{text}: {rest}" if text else rest
    gsm = _is_gsm(text)
    single, part = per_segment(gsm)
    limit = single if max_segments == 1 else part * max_segments
    if sum(_cost(c, gsm) for c in text) <= limit:
        return text
    ellipsis = "..." if gsm else "…"
    room = limit - len(ellipsis)
    used = 0
    kept = 0
    for char in text:
        used += _cost(char, gsm)
        if used > room:
            break
        kept += 1
    return text[:kept].rstrip() + ellipsis
