"""Which event loop the gateway runs on: uvloop when it is installed, asyncio's own otherwise.

Every plugin, the journal's pipe to its writer process, the API and the rules engine share one
loop, so the loop's own cost per callback, read and write is paid on every frame. Measured on
the 2-core machine with ``bench/dc09_ingest.py`` (the same run, one after the other): uvloop
took a DC-09 frame from about 400 to 330 µs of the gateway's CPU and the receiver's peak from
about 2,900 to 3,600 ACKed events/s. uvloop is the loop uvicorn's "standard" install uses.

``event_loop`` in ``anfang.yaml``: ``auto`` (the default: uvloop if it can be imported),
``uvloop`` (refused by ``anfang check`` when it is not installed) or ``asyncio``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

EventLoopChoice = Literal["auto", "uvloop", "asyncio"]
LoopName = Literal["uvloop", "asyncio"]
T = TypeVar("T")


class EventLoopUnavailable(RuntimeError):
    """The configured loop cannot be had here."""


def uvloop_installed() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def resolve(choice: EventLoopChoice) -> LoopName:
    """The loop ``choice`` means on this machine."""
    if choice == "asyncio":
        return "asyncio"
    if uvloop_installed():
        return "uvloop"
    if choice == "uvloop":
        raise EventLoopUnavailable(
            "event_loop is 'uvloop' but uvloop is not installed (pip install uvloop; or set "
            "event_loop: auto to fall back to asyncio's loop)"
        )
    return "asyncio"


def loop_factory(name: LoopName) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What :class:`asyncio.Runner` makes its loop with (None: asyncio's default)."""
    if name == "asyncio":
        return None
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], choice: EventLoopChoice = "auto") -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(resolve(choice))) as runner:
        return runner.run(main)


def running_loop_name() -> LoopName:
    """The loop this coroutine runs on, for the start log line and metrics."""
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


__all__ = [
    "EventLoopChoice",
    "EventLoopUnavailable",
    "LoopName",
    "loop_factory",
    "resolve",
    "run",
    "running_loop_name",
    "uvloop_installed",
]
