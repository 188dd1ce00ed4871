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
"""The GSM 7-bit default alphabet (the extension table's characters count double; they are
left out, so text using them is measured as UCS-2, which only ever errs on the short side)."""


def per_segment(text: str) -> tuple[int, int]:
    """(characters in a single message, characters per part of a longer one)."""
    return (160, 153) if all(c in GSM_BASIC for c in text) else (70, 67)


def sms_text(subject: str, body: str, max_segments: int) -> str:
    """``subject: body`` on one message's worth of segments, cut with an ellipsis if longer."""
    text = subject.strip()
    rest = " ".join(body.split())
    if rest:
        text = f"{text}: {rest}" if text else rest
    single, part = per_segment(text)
    limit = single if max_segments == 1 else part * max_segments
    if len(text) <= limit:
        return text
    ellipsis = "..." if single == 160 else "…"
    return text[: limit - len(ellipsis)].rstrip() + ellipsis
