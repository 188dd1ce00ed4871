"""What a receiver's answer means for the message it answers; no I/O.

The checks a panel makes (``plugins/sia_dc09/sender.py`` makes the same): CRC and length,
the echoed sequence number and account, and for an encrypted message an ``*ACK`` that decrypts
with the account's key — an answer anyone could forge is not taken as delivery. A NAK echoes
nothing ("NAK"0000R0L0A0) and carries the receiver's time for the resync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugins.sia_dc09.dc09 import Dc09Error, Key
from plugins.sia_dc09.dc09.response import parse_response


class Answer(StrEnum):
    ACK = "ack"
    NAK = "nak"
    DUH = "duh"
    BAD = "bad"
    """Unreadable, or not an answer to this message: the path is treated as failing."""


@dataclass(frozen=True, slots=True)
class Reply:
    answer: Answer
    timestamp: datetime | None = None
    """The receiver's clock, from a NAK or an ``*ACK``."""
    detail: str = ""


def read_reply(raw: bytes, *, seq: int, account: str, key: Key | None) -> Reply:
    try:
        response = parse_response(raw, key)
    except Dc09Error as exc:
        return Reply(Answer.BAD, detail=f"unreadable answer: {exc}")
    if response.token == "NAK":
        return Reply(Answer.NAK, response.timestamp, "NAK")
    expected = f"{seq:04d}"
    if not response.answers(expected, account):
        return Reply(
            Answer.BAD,
            detail=f"{response.token} for sequence {response.seq} account "
            f"{response.account or '-'}, not {expected} {account}",
        )
    if response.token == "DUH":
        return Reply(Answer.DUH, response.timestamp, "DUH")
    if response.token != "ACK":
        return Reply(Answer.BAD, detail=f"{response.token} where ACK, NAK or DUH was due")
    if key is not None and not response.encrypted:
        return Reply(Answer.BAD, detail="a plain ACK to an encrypted message (DC-09: *ACK)")
    return Reply(Answer.ACK, response.timestamp, "ACK")
