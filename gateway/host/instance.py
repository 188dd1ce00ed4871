"""One supervised plugin instance: start it, watch it, restart it with backoff when it fails.

A failure is an exception from ``start`` or from any task the instance spawned. The failure is
journaled as ``plugin.fault`` (alarm) with the error; when the restarted instance has started
again, the restore follows. Other instances are never touched (GB 50348-2018 §6.5.13).
"""

from __future__ import annotations

import asyncio
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from pydantic import BaseModel

from gateway.model.kinds import Phase
from gateway.registry.statedb import StateStore
from gateway.sdk.clock import Clock
from gateway.sdk.context import PluginContext
from gateway.sdk.plugin import Plugin

log = structlog.get_logger("anfang.host")

BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0
STABLE_AFTER_S = 60.0
"""Running this long without a failure resets the backoff to its initial delay."""
STOP_TIMEOUT_S = 10.0


class InstanceState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    STOPPED = "stopped"


@dataclass
class InstanceStatus:
    state: InstanceState = InstanceState.STARTING
    restarts: int = 0
    last_error: str | None = None
    faulted: bool = False
    stalls: int = 0
    """Times the watchdog caught this instance blocking the event loop."""
    starts: int = 0
    """Times ``start()`` returned, i.e. the instance came up (it may have failed later)."""


ContextFactory = Callable[[Callable[[BaseException], None]], PluginContext]


class InstanceRunner:
    def __init__(
        self,
        instance_id: str,
        plugin_cls: type[Plugin[Any]],
        config: BaseModel,
        make_context: ContextFactory,
        clock: Clock,
        *,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        faults: StateStore | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.plugin_cls = plugin_cls
        self.config = config
        self._make_context = make_context
        self._clock = clock
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._faults = faults
        self.status = InstanceStatus(
            faulted=bool(faults is not None and faults.get(instance_id)),
        )
        """``faulted`` outlives the runner (reload, restart): every fault alarm gets its restore."""
        self.plugin: Plugin[Any] | None = None
        self.context: PluginContext | None = None
        self._past_counters: Counter[str] = Counter()
        self._past_kinds: Counter[str] = Counter()
        self._context_retired = False
        self._failure: asyncio.Future[BaseException] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"host:{self.instance_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.status.state = InstanceState.STOPPED

    def _fail(self, exc: BaseException) -> None:
        if self._failure is not None and not self._failure.done():
            self._failure.set_result(exc)

    async def _supervise(self) -> None:
        delay = self._backoff_initial
        try:
            while True:
                self.status.state = InstanceState.STARTING
                self._failure = asyncio.get_running_loop().create_future()
                ctx = self._make_context(self._fail)
                plugin = self.plugin_cls(self.config, ctx)
                self.plugin, self.context = plugin, ctx
                self._context_retired = False
                started_at = self._clock.monotonic()
                error: BaseException | None = None
                try:
                    await plugin.start()
                except Exception as exc:
                    error = exc
                else:
                    self.status.state = InstanceState.RUNNING
                    self.status.starts += 1
                    if self.status.faulted:
                        await self._journal_fault(Phase.RESTORE, "instance running again")
                        self._set_faulted(False)
                    error = await self._failure
                self.status.state = InstanceState.BACKOFF  # not running from the failure on
                await self._teardown(plugin, ctx)
                self.status.restarts += 1
                self.status.last_error = f"{type(error).__name__}: {error}"
                if self._clock.monotonic() - started_at >= STABLE_AFTER_S:
                    delay = self._backoff_initial
                log.error(
                    "plugin instance failed; restarting",
                    instance=self.instance_id,
                    error=self.status.last_error,
                    retry_in_s=delay,
                )
                if not self.status.faulted:
                    self._set_faulted(True)
                    await self._journal_fault(Phase.ALARM, self.status.last_error, error)
                self.status.state = InstanceState.BACKOFF
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
        except asyncio.CancelledError:
            if self.plugin is not None and self.context is not None:
                await self._teardown(self.plugin, self.context)
            raise

    def _set_faulted(self, faulted: bool) -> None:
        self.status.faulted = faulted
        if self._faults is not None:
            if faulted:
                self._faults.set(self.instance_id, True)
            else:
                self._faults.delete(self.instance_id)

    async def retire(self) -> None:
        """Stop for good (removed from the config): an open fault alarm is restored now."""
        await self.stop()
        if self.status.faulted:
            await self._journal_fault(Phase.RESTORE, "instance removed from the config")
            self._set_faulted(False)

    def counters(self) -> tuple[Counter[str], Counter[str]]:
        """(counters, events published by kind) since the gateway started, across restarts."""
        counters, kinds = Counter(self._past_counters), Counter(self._past_kinds)
        if self.context is not None and not self._context_retired:
            counters.update(self.context.counters)
            kinds.update(self.context.published_by_kind)
        return counters, kinds

    async def _teardown(self, plugin: Plugin[Any], ctx: PluginContext) -> None:
        try:
            await asyncio.wait_for(plugin.stop(), STOP_TIMEOUT_S)
        except Exception as exc:
            log.warning("plugin stop failed", instance=self.instance_id, error=str(exc))
        await ctx.close()
        if ctx is self.context and not self._context_retired:
            self._past_counters.update(ctx.counters)
            self._past_kinds.update(ctx.published_by_kind)
            self._context_retired = True

    async def _journal_fault(
        self, phase: Phase, text: str, error: BaseException | None = None
    ) -> None:
        ctx = self.context
        if ctx is None:
            return
        data: dict[str, Any] = {"restarts": self.status.restarts}
        if error is not None:
            data["traceback"] = "".join(traceback.format_exception(error))[-4000:]
        source = f"{ctx.site}/{self.instance_id}"
        event = ctx.event("plugin.fault", source, phase, text=text[:1000], plugin="host", data=data)
        try:
            await ctx.journal.append(event)
        except Exception as exc:  # the journal reports its own faults
            log.error("could not journal plugin.fault", instance=self.instance_id, error=str(exc))
