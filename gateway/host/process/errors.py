"""How an isolated plugin's failures are named to the host (and so in ``plugin.fault``)."""

from __future__ import annotations

import signal


class IsolatedPluginError(RuntimeError):
    """The isolated plugin failed: its process died, a task in it raised, or its start failed."""


def describe_exit(returncode: int | None) -> str:
    """``died (SIGABRT)``, ``exited with code 1``: how a process ended, for people."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"died ({name})"
    return f"exited with code {returncode}"
