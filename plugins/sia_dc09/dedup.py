"""Retransmission de-duplication that survives a restart.

A panel that does not get its ACK sends the same frame again (same sequence number). DC-09
receivers must not report that alarm twice, yet must never drop a new alarm: a frame with a
timestamp is a repeat when account, sequence, timestamp and data block all match; a frame without
one only when it is byte-identical — a panel that restarts its sequence numbers sends a new frame
with an old number, and that one is reported.

The fingerprint travels inside every journaled event (``data.dc09.fp``, with the event's index
``i`` of ``n`` in the frame), so after a restart the set is rebuilt from the journal itself: a
frame counts as seen exactly when all its events are durable. A frame only partly journaled
(the journal failed half-way) is remembered by which events made it, and its retransmission
journals only the rest: neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Iterable


def fingerprint(account: str, seq: str, timestamp: str | None, data: str, raw: bytes) -> str:
    if timestamp is None:
        material = b"raw\x00" + raw.strip(b"\n\r\x00")
    else:
        material = "\x00".join(("ts", account, seq, timestamp, data)).encode()
    return hashlib.blake2b(material, digest_size=12).hexdigest()


class Deduplicator:
    """Fingerprints seen within ``window_s``, plus frames being published right now."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._partial: dict[str, set[int]] = {}
        self._inflight: dict[str, asyncio.Future[None] | None] = {}
        """Frames being published; the future is made only when a second copy waits on one."""

    def load(self, entries: Iterable[tuple[str, float, int, int]], now: float) -> None:
        """Seed from journaled events: (fingerprint, time received on the monotonic clock,
        index of the event in its frame, events in the frame)."""
        found: dict[str, tuple[float, set[int], int]] = {}
        for fp, at, index, count in entries:
            if now - at > self.window_s:
                continue
            first, indexes, _ = found.get(fp, (at, set(), count))
            indexes.add(index)
            found[fp] = (min(first, at), indexes, count)
        for fp, (at, indexes, count) in sorted(found.items(), key=lambda item: item[1][0]):
            if len(indexes) >= count:
                self._seen[fp] = at
            else:
                self._partial[fp] = indexes

    def committed_part(self, fp: str) -> set[int]:
        """Indexes of this frame's events already journaled (a partial earlier attempt)."""
        return self._partial.get(fp, set())

    def note_committed(self, fp: str, index: int) -> None:
        self._partial.setdefault(fp, set()).add(index)

    def is_repeat(self, fp: str, now: float) -> bool:
        self._expire(now)
        return fp in self._seen

    def inflight(self, fp: str) -> asyncio.Future[None] | None:
        """The publish already under way for this frame (a repeat on another connection)."""
        if fp not in self._inflight:
            return None
        future = self._inflight[fp]
        if future is None:
            future = self._inflight[fp] = asyncio.get_running_loop().create_future()
        return future

    def begin(self, fp: str) -> None:
        self._inflight[fp] = None

    def finish(self, fp: str, now: float, *, committed: bool) -> None:
        future = self._inflight.pop(fp, None)
        if committed:
            self._partial.pop(fp, None)
            self._seen[fp] = now
            self._seen.move_to_end(fp)
        if future is not None and not future.done():
            if committed:
                future.set_result(None)
            else:
                future.set_exception(RuntimeError("the first copy was not committed"))
                future.exception()  # retrieved: waiters handle it, nobody else must log it

    def _expire(self, now: float) -> None:
        while self._seen:
            fp, at = next(iter(self._seen.items()))
            if now - at <= self.window_s:
                return
            del self._seen[fp]

    def __len__(self) -> int:
        return len(self._seen)
