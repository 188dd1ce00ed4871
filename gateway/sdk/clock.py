"""Clocks: plugins and the registry take time from ``ctx.clock`` so tests can control it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and timeouts)."""

    async def sleep(self, seconds: float) -> None:
        """Sleep on this clock."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when a test calls :meth:`advance`; sleepers wake in order."""

    def __init__(self, start: datetime | None = None) -> None:
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + max(0.0, seconds), next(self._ids), fut))
        await fut

    async def advance(self, seconds: float, step: float = 0.1) -> None:
        """Move time forward in steps, letting woken tasks run at each step."""
        target = self._mono + seconds
        while self._mono < target:
            delta = min(step, target - self._mono)
            self._mono += delta
            self._wall += timedelta(seconds=delta)
            while self._sleepers and self._sleepers[0][0] <= self._mono:
                _, _, fut = heapq.heappop(self._sleepers)
                if not fut.done():
                    fut.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
