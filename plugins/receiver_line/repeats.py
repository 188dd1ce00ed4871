"""Recognising the receiver's retransmission of the line just journaled (a lost ACK).

A receiver sends one line and waits for its ACK (4 s by default, up to 9.9 s: System 5 option
[412]); without one it sends the same line again. Lines carry no sequence number, so the only
sign of a retransmission is the same line again, right after it. Only the *last* line is
remembered: once any other line has come, the receiver has moved on, and an identical line
later is a new signal (a panel reporting the same zone twice) and is journaled again.

Two cases differ by when the copy comes, measured from our ACK:

- a copy the receiver sent before our ACK reached it (the commit was slow) arrives right
  after the ACK. Answering it would put a second ACK on the line, which the receiver takes
  for the ACK of its *next* line — a line the journal has not seen. It gets no answer; if
  the receiver really missed our ACK it sends once more, later, and that copy is answered;
- a copy arriving later means our ACK was lost: it is ACKed again, not journaled again.

A line whose events were only partly journaled (the journal failed half-way) is remembered by
which events made it, so its retransmission journals only the rest: neither lost nor doubled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


def fingerprint(raw: str) -> str:
    """The identity of a line: its text without padding (receivers pad with spaces)."""
    return hashlib.blake2b(raw.strip().encode(), digest_size=12).hexdigest()


class Verdict(StrEnum):
    NEW = "new"  # journal it (all events, or those an interrupted attempt did not)
    REPEAT = "repeat"  # journaled already, our ACK was lost: ACK again
    TOO_SOON = "too_soon"  # a copy sent before our ACK arrived: no answer


@dataclass
class _Last:
    fp: str
    done: set[int] = field(default_factory=set)
    complete: bool = False
    acked_at: float | None = None
    committed_at: float = 0.0


class RepeatGuard:
    def __init__(self, window_s: float, guard_s: float) -> None:
        self.window_s = window_s
        self.guard_s = guard_s
        self._last: _Last | None = None

    def seed(self, fp: str, indexes: set[int], count: int, at: float) -> None:
        """The newest line in the journal (after a restart): its ACK may never have left."""
        self._last = _Last(fp, set(indexes), len(indexes) >= count, None, at)

    def check(self, fp: str, now: float) -> Verdict:
        last = self._last
        if last is None or last.fp != fp or not last.complete:
            return Verdict.NEW
        if now - last.committed_at > self.window_s:
            return Verdict.NEW
        if last.acked_at is not None and now - last.acked_at < self.guard_s:
            return Verdict.TOO_SOON
        return Verdict.REPEAT

    def journaled_part(self, fp: str) -> set[int]:
        """Indexes of this line's events journaled by an earlier, interrupted attempt."""
        last = self._last
        return set(last.done) if last is not None and last.fp == fp else set()

    def note(self, fp: str, index: int) -> None:
        if self._last is None or self._last.fp != fp:
            self._last = _Last(fp)
        self._last.done.add(index)

    def complete(self, fp: str, now: float) -> None:
        if self._last is None or self._last.fp != fp:
            self._last = _Last(fp)
        self._last.complete = True
        self._last.committed_at = now

    def acked(self, fp: str, now: float) -> None:
        if self._last is not None and self._last.fp == fp:
            self._last.acked_at = now
