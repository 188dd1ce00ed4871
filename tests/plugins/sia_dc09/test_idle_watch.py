"""The idle watch behind the TCP idle timeout: activity defers it, silence fires it once."""

from __future__ import annotations

import asyncio

from plugins.sia_dc09.transport import IdleWatch


async def test_activity_defers_the_watch_and_silence_fires_it_once() -> None:
    fired: list[float] = []
    loop = asyncio.get_running_loop()
    watch = IdleWatch(0.5, lambda: fired.append(loop.time()))
    for _ in range(20):  # 1 s of activity, twice the idle time (a touch every 0.05 s)
        await asyncio.sleep(0.05)
        watch.touch()
    assert not watch.fired and fired == [], "a busy connection is never idle"
    quiet_from = loop.time()
    await asyncio.sleep(1.5)
    assert watch.fired and len(fired) == 1
    assert fired[0] - quiet_from >= 0.49, "not before the idle time has passed"
    watch.cancel()


async def test_cancelled_watch_never_fires() -> None:
    fired: list[bool] = []
    watch = IdleWatch(0.05, lambda: fired.append(True))
    watch.cancel()
    await asyncio.sleep(0.15)
    assert fired == [] and not watch.fired
