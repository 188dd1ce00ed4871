"""Event-loop watchdog: a thread that notices when the loop stops turning and says who stopped it.

Every plugin shares one asyncio loop, so a plugin that blocks it (a synchronous socket read, a
``time.sleep``) stops every other plugin too. GB 50348-2018 §6.5.13 says one subsystem must not
take down the platform; we cannot preempt the blocker, but the operator must learn which one it
is. The loop cannot report on itself while blocked, so a daemon thread watches a heartbeat the
loop keeps, logs the loop thread's stack as soon as the heartbeat goes stale, and hands a
``StallReport`` back to the loop once it runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog

log = structlog.get_logger("anfang.watchdog")

_PATHS = sysconfig.get_paths()
_STDLIB = tuple({os.path.join(_PATHS[k], "") for k in ("stdlib", "platstdlib")})
_SITE = tuple({os.path.join(_PATHS[k], "") for k in ("purelib", "platlib")})


@dataclass(frozen=True)
class StallReport:
    blocked_s: float
    """Whole time the loop was blocked: from its last heartbeat until it ran again (so it may be
    long by up to one beat)."""
    task: str | None
    instance: str | None
    culprit: str
    stack: str


def instance_of(task_name: str | None) -> str | None:
    """``host:<id>`` runs ``plugin.start()``, ``<id>:<name>`` is a task from ``ctx.spawn``."""
    if task_name is None or ":" not in task_name:
        return None
    head, _, tail = task_name.partition(":")
    return tail if head == "host" else head


def _is_scene(filename: str) -> bool:
    """Stdlib (asyncio included) and this module are where the loop runs, not who blocks it."""
    if filename == __file__ or filename.startswith("<"):
        return True
    return filename.startswith(_STDLIB) and not filename.startswith(_SITE)


def _culprit(stack: traceback.StackSummary) -> str:
    for fs in reversed(stack):
        if not _is_scene(fs.filename):
            return f"{fs.filename}:{fs.lineno} in {fs.name}"
    return "unknown"


class LoopWatchdog:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_stall: Callable[[StallReport], None],
        *,
        threshold_s: float = 1.0,
        beat_s: float = 0.1,
    ) -> None:
        self.loop = loop
        self.on_stall = on_stall
        self.threshold_s = threshold_s
        self.beat_s = beat_s
        self.stalls = 0
        self.longest_s = 0.0
        self._last_beat = time.monotonic()
        self._loop_thread = threading.get_ident()
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the heartbeat and the watching thread; call from the loop's thread."""
        if self._thread is not None:
            return
        self._beat()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="anfang-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (idempotent; call from the loop's thread, the loop may be closed)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, 10 * self.beat_s))
            self._thread = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        self._loop_thread = threading.get_ident()
        self._handle = self.loop.call_later(self.beat_s, self._beat)

    def _watch(self) -> None:
        reported = idle_since = -1.0
        while not self._stopping.wait(self.beat_s) and not self.loop.is_closed():
            now = time.monotonic()
            if not self.loop.is_running():  # stopped between run_until_complete calls: not a stall
                idle_since = now
                continue
            since = max(self._last_beat, idle_since)
            if now - since > self.threshold_s and since != reported:
                reported = since
                self._report(since, now)

    def _report(self, since: float, now: float) -> None:
        frame = sys._current_frames().get(self._loop_thread)
        summary = traceback.extract_stack(frame) if frame is not None else None
        del frame
        stack = "".join(summary.format()) if summary is not None else ""
        try:
            current = asyncio.current_task(self.loop)
            task = current.get_name() if current is not None else None
        except Exception:
            task = None
        report = StallReport(
            blocked_s=now - since,
            task=task,
            instance=instance_of(task),
            culprit=_culprit(summary) if summary is not None else "unknown",
            stack=stack,
        )
        log.error(
            "event loop blocked",
            blocked_for_s=round(report.blocked_s, 3),
            task=report.task,
            instance=report.instance,
            culprit=report.culprit,
            stack=stack,
        )
        with contextlib.suppress(RuntimeError):  # loop closed under us: the log line is all we have
            self.loop.call_soon_threadsafe(self._deliver, report, since)

    def _deliver(self, report: StallReport, since: float) -> None:
        report = replace(report, blocked_s=time.monotonic() - since)
        self.stalls += 1
        self.longest_s = max(self.longest_s, report.blocked_s)
        log.warning(
            "event loop running again",
            blocked_s=round(report.blocked_s, 3),
            task=report.task,
            instance=report.instance,
            culprit=report.culprit,
        )
        try:
            self.on_stall(report)
        except Exception:
            log.exception("stall handler failed", task=report.task, instance=report.instance)
