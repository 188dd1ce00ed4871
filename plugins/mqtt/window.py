"""The MQTT in-flight window: at most ``size`` publishes awaiting their PUBACK, and the commit
position their acknowledgements allow (the shared :class:`~gateway.sdk.window.CommitWindow`).

PUBACKs may be seen out of order (each publish is awaited by its own task), but the cursor must
only ever cover records the broker has acknowledged.
"""

from __future__ import annotations

from gateway.sdk.window import CommitWindow


class AckWindow:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self.size = size
        self._out = CommitWindow()
        self.high_water = 0
        """The most records that were ever out at once (what the bench reports)."""

    def __len__(self) -> int:
        return len(self._out)

    @property
    def full(self) -> bool:
        return len(self._out) >= self.size

    @property
    def empty(self) -> bool:
        return not len(self._out)

    def sent(self, seq: int) -> None:
        self._out.take(seq)
        self.high_water = max(self.high_water, len(self._out))

    def acked(self, seq: int) -> int | None:
        """Mark ``seq`` acknowledged; returns the new commit position, or None if it stays."""
        return self._out.finish(seq)

    def unacked(self) -> list[int]:
        """Records out but not acknowledged, in order (to send again after a reconnect)."""
        return self._out.unfinished()

    def clear(self) -> None:
        self._out.clear()
