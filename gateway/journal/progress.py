"""How far a journal follower has applied records, and waiting for it to get somewhere.

A follower (the area tracker, the incident tracker) moves on after every commit, hundreds of
times a second, while someone waits for it only now and then (a rule that needs the area state
as of its trigger). So moving on is an attribute write and a test of an empty list; an
``asyncio.Condition`` took a lock and notified nobody on every commit.
"""

from __future__ import annotations

import asyncio
import contextlib


class Progress:
    """``seq``: every record up to it is applied. ``await reached(n)`` returns once it is."""

    def __init__(self, seq: int = 0) -> None:
        self.seq = seq
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def advance(self, seq: int) -> None:
        self.seq = seq
        if not self._waiters:
            return
        waiting = []
        for target, waiter in self._waiters:
            if waiter.done():
                continue  # its waiter was cancelled
            if target <= seq:
                waiter.set_result(None)
            else:
                waiting.append((target, waiter))
        self._waiters = waiting

    async def reached(self, seq: int) -> None:
        while self.seq < seq:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry = (seq, waiter)
            self._waiters.append(entry)
            try:
                await waiter
            except BaseException:  # given up (cancelled, timed out): not kept till advance
                with contextlib.suppress(ValueError):
                    self._waiters.remove(entry)
                raise
