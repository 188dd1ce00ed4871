"""One receiver's sending state: sequence numbers, the event in flight, the clock offset.

Sans-IO: the driver asks it what to send and tells it what the receiver answered; it keeps
what must survive a restart in a plain dict (``snapshot``) that the driver stores in
``ctx.state`` before the first send of each event and after each answer.

Several events may be out at once, one per connection, never two from the same device.
Why the events in flight are kept: the receiver recognises a retransmission by account,
sequence number, timestamp and data (``plugins/sia_dc09/dedup.py``, seeded from its journal
after its own restart). A forwarder that restarts after sending an event but before reading
its ACK sends it again with the *same* sequence number and timestamp, so the receiver answers
ACK without reporting it twice. ``acked`` is the journal position up to which every record is
settled — acknowledged, refused, or not sent (no code) — and ``settled`` the records beyond it
already done: none of them is sent again, even if the journal cursor (written lazily) lags.

DC-09 sequence numbers run 0001-9999 and wrap; 0000 is the link test's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

SEQ_LAST = 9999


@dataclass(frozen=True, slots=True)
class InFlight:
    journal_seq: int
    event_id: str
    seq: int
    stamp: datetime
    token: str
    data: str
    resumed: bool = False
    """Sent before a restart and being sent again as it was."""

    def to_json(self) -> dict[str, Any]:
        return {
            "journal_seq": self.journal_seq,
            "event_id": self.event_id,
            "seq": self.seq,
            "stamp": self.stamp.isoformat(),
            "token": self.token,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> InFlight:
        return cls(
            journal_seq=int(raw["journal_seq"]),
            event_id=str(raw["event_id"]),
            seq=int(raw["seq"]),
            stamp=datetime.fromisoformat(str(raw["stamp"])),
            token=str(raw["token"]),
            data=str(raw["data"]),
        )


def next_seq(seq: int) -> int:
    return seq % SEQ_LAST + 1


class Outbox:
    """Several events may be out at once (one per connection), so "settled" is a set: the
    journal cursor — and ``acked`` — move only over the contiguous settled prefix of what was
    read, and records settled beyond it are remembered until the prefix reaches them."""

    def __init__(self, saved: Mapping[str, Any] | None = None) -> None:
        saved = saved or {}
        self.acked = int(saved.get("acked", 0))
        """Every record at or before this journal position is settled."""
        self.settled = {int(s) for s in saved.get("settled", ()) if int(s) > self.acked}
        """Settled records after ``acked`` (sent out of order on another connection)."""
        self.next_seq = int(saved.get("next_seq", 1))
        if not 1 <= self.next_seq <= SEQ_LAST:
            self.next_seq = 1
        self.offset_s = float(saved.get("offset_s", 0.0))
        """Receiver clock minus ours, learnt from the last NAK's timestamp."""
        self.inflight: dict[int, InFlight] = {}
        self._saved: dict[int, InFlight] = {}
        for raw in saved.get("inflight", ()) or ():
            try:
                flight = InFlight.from_json(raw)
            except (KeyError, TypeError, ValueError):
                continue  # unreadable: that event is sent afresh (at least once)
            self._saved[flight.journal_seq] = flight
        self._open: set[int] = set()

    def read(self, journal_seq: int) -> None:
        """A record was read from the journal: the cursor may not pass it until settled."""
        self._open.add(journal_seq)

    def done(self, journal_seq: int) -> bool:
        """Whether this journal record was already acknowledged, refused or skipped."""
        return journal_seq <= self.acked or journal_seq in self.settled

    def stamp(self, now: datetime) -> datetime:
        """Our time as the receiver's clock reads it, to the second (DC-09's resolution)."""
        return (now + timedelta(seconds=self.offset_s)).replace(microsecond=0)

    def begin(
        self, journal_seq: int, event_id: str, token: str, data: str, now: datetime
    ) -> InFlight:
        """The frame identity for an event: the saved one when this event was already in
        flight before a restart, else the next sequence number and the current time."""
        prior = self._saved.pop(journal_seq, None)
        if prior is not None and (prior.event_id, prior.token, prior.data) == (
            event_id,
            token,
            data,
        ):
            flight = replace(prior, resumed=True)
        else:
            seq = self.next_seq
            self.next_seq = next_seq(seq)
            flight = InFlight(journal_seq, event_id, seq, self.stamp(now), token, data)
        self.inflight[journal_seq] = flight
        return flight

    def settle(self, journal_seq: int, position: int) -> None:
        """The record is done with: acknowledged (ACK), refused for good (DUH) or not sent.
        ``position`` is the journal position the consumer has read up to."""
        self.inflight.pop(journal_seq, None)
        self._open.discard(journal_seq)
        self.settled.add(journal_seq)
        floor = min(self._open) - 1 if self._open else position
        if floor > self.acked:
            self.acked = floor
            self.settled = {s for s in self.settled if s > floor}

    def resync(self, journal_seq: int | None, receiver_time: datetime, now: datetime) -> None:
        """A NAK carried the receiver's time: adopt its clock and re-stamp the event it
        answered (same sequence number, new timestamp), as DC-09 has a panel do."""
        self.offset_s = round((receiver_time - now).total_seconds(), 3)
        if journal_seq is not None and journal_seq in self.inflight:
            flight = self.inflight[journal_seq]
            self.inflight[journal_seq] = replace(flight, stamp=self.stamp(now))

    def caught_up(self, position: int) -> None:
        """Nothing is open: everything up to ``position`` (filtered records too) is settled."""
        if not self._open and position > self.acked:
            self.acked = position
            self.settled = {s for s in self.settled if s > position}

    def snapshot(self) -> dict[str, Any]:
        return {
            "acked": self.acked,
            "settled": sorted(self.settled),
            "next_seq": self.next_seq,
            "offset_s": self.offset_s,
            "inflight": [
                f.to_json()
                for f in (*self.inflight.values(), *self._saved.values())
                if not self.done(f.journal_seq)
            ],
        }
