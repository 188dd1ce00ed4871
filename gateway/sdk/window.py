"""Journal positions taken but not yet done, in order: how far a consumer's cursor may move.

A connector or notifier finishes records out of order (each is awaited by its own task), but
its durable cursor may only ever cover records that are done, so it moves to the end of the
leading run of done ones and no further. Sans-IO: sequence numbers in, a commit position out.
"""

from __future__ import annotations

from collections import OrderedDict


class CommitWindow:
    def __init__(self) -> None:
        self._open: OrderedDict[int, bool] = OrderedDict()  # seq -> done, in journal order

    def __len__(self) -> int:
        return len(self._open)

    def take(self, seq: int) -> None:
        """``seq`` is being worked on; seqs must be taken in journal order."""
        if self._open and seq <= next(reversed(self._open)):
            raise ValueError(f"seq {seq} taken after a higher one: the window keeps journal order")
        self._open[seq] = False

    def finish(self, seq: int) -> int | None:
        """Mark ``seq`` done; the position the cursor may now move to, or None if it stays."""
        if seq not in self._open:
            return None
        self._open[seq] = True
        passed = None
        while self._open:
            first, done = next(iter(self._open.items()))
            if not done:
                break
            self._open.popitem(last=False)
            passed = first
        return passed

    def unfinished(self) -> list[int]:
        """Taken but not done, in order (to take again after a reconnect)."""
        return [seq for seq, done in self._open.items() if not done]

    def clear(self) -> None:
        self._open.clear()
