"""What a plugin tells the conformance kit: how to configure it and how to give it traffic.

The kit (``anfang conformance PLUGIN``) runs the plugin in a real gateway on a throwaway journal.
It needs a config that starts on any machine (servers on ``127.0.0.1`` port 0, no real devices)
and, for plugins that only react to a peer (a receiver waiting for panels), a way to drive some
traffic into the running instance, so the events it publishes can be checked too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.sdk.plugin import Plugin

Exercise = Callable[["Plugin[Any]"], Awaitable[None]]
"""Given the running instance, act as its peer for a moment (connect, send frames, read ACKs)."""


@dataclass(frozen=True)
class ConformanceSpec:
    example_config: dict[str, Any] = field(default_factory=dict)
    """A valid ``config`` for one instance that needs nothing outside this machine."""
    exercise: Exercise | None = None
    """Drives traffic into the running instance; None when the plugin produces events itself."""
    command_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``params`` to send with each declared action when the kit checks it answers."""
    run_s: float = 1.0
    """How long the kit lets the instance run (and measures the event loop) per start."""
