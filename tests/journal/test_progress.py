"""Progress: a follower's position, and waiting for it."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.journal.progress import Progress


async def test_reached_returns_at_once_when_already_there() -> None:
    progress = Progress(5)
    await asyncio.wait_for(progress.reached(5), 1)
    await asyncio.wait_for(progress.reached(3), 1)


async def test_waiters_wake_only_when_their_seq_is_applied() -> None:
    progress = Progress()
    near = asyncio.ensure_future(progress.reached(2))
    far = asyncio.ensure_future(progress.reached(10))
    await asyncio.sleep(0)
    progress.advance(1)
    await asyncio.sleep(0)
    assert not near.done() and not far.done()
    progress.advance(4)
    await asyncio.sleep(0)
    assert near.done() and not far.done()
    progress.advance(10)
    await asyncio.wait_for(far, 1)
    assert progress.seq == 10


async def test_a_cancelled_waiter_is_dropped_and_the_others_still_wake() -> None:
    progress = Progress()
    gone = asyncio.ensure_future(progress.reached(3))
    stays = asyncio.ensure_future(progress.reached(3))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    progress.advance(3)
    await asyncio.wait_for(stays, 1)
    assert gone.cancelled()
    assert progress._waiters == []


async def test_a_wait_given_up_leaves_nothing_behind() -> None:
    progress = Progress()
    for _ in range(3):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(progress.reached(5), 0.01)
    assert progress._waiters == []
