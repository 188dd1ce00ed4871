"""Retransmission de-duplication that survives a restart.

A panel that does not get its ACK sends the same frame again (same sequence number). DC-09
receivers must not report that alarm twice, yet must never drop a new alarm: a frame with a
timestamp is a repeat when account, sequence, timestamp and data block all match; a frame without
one only when it is byte-identical — a panel that restarts its sequence numbers sends a new frame
with an old number, and that one is reported.

The fingerprint travels inside every journaled event (``data.dc09.fp``), so after a restart the
set is rebuilt from the journal itself: a frame counts as seen exactly when its events are durable.
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
        self._inflight: dict[str, asyncio.Future[None]] = {}

    def load(self, entries: Iterable[tuple[str, float]], now: float) -> None:
        """Seed from journaled events: (fingerprint, monotonic-equivalent time received)."""
        for fp, at in sorted(entries, key=lambda e: e[1]):
            if now - at <= self.window_s:
                self._seen[fp] = at
                self._seen.move_to_end(fp)

    def is_repeat(self, fp: str, now: float) -> bool:
        self._expire(now)
        return fp in self._seen

    def inflight(self, fp: str) -> asyncio.Future[None] | None:
        """The publish already under way for this frame (a repeat on another connection)."""
        return self._inflight.get(fp)

    def begin(self, fp: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[fp] = future
        return future

    def finish(self, fp: str, now: float, *, committed: bool) -> None:
        future = self._inflight.pop(fp, None)
        if committed:
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
