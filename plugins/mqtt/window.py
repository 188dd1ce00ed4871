"""The in-flight window's bookkeeping: which records are out, which are acknowledged, and how
far the cursor may move (sans-IO: sequence numbers in, a commit position out).

PUBACKs may be seen out of order (each publish is awaited by its own task), but the cursor must
only ever cover records the broker has acknowledged, so it advances to the end of the
contiguous acknowledged prefix and no further.
"""

from __future__ import annotations

from collections import OrderedDict


class AckWindow:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self.size = size
        self._out: OrderedDict[int, bool] = OrderedDict()  # seq -> acknowledged, in send order
        self.high_water = 0
        """The most records that were ever out at once (what the bench reports)."""

    def __len__(self) -> int:
        return len(self._out)

    @property
    def full(self) -> bool:
        return len(self._out) >= self.size

    @property
    def empty(self) -> bool:
        return not self._out

    def sent(self, seq: int) -> None:
        if self._out and seq <= next(reversed(self._out)):
            raise ValueError(f"seq {seq} sent after a higher one: the window keeps journal order")
        self._out[seq] = False
        self.high_water = max(self.high_water, len(self._out))

    def acked(self, seq: int) -> int | None:
        """Mark ``seq`` acknowledged; returns the new commit position, or None if it stays."""
        if seq not in self._out:
            return None
        self._out[seq] = True
        commit = None
        while self._out:
            first, done = next(iter(self._out.items()))
            if not done:
                break
            self._out.popitem(last=False)
            commit = first
        return commit

    def unacked(self) -> list[int]:
        """Records out but not acknowledged, in order (to send again after a reconnect)."""
        return [seq for seq, done in self._out.items() if not done]

    def clear(self) -> None:
        self._out.clear()
