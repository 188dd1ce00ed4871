"""What a plugin instance gets from the host: publish, subscribe, registry, state, clock, spawn.

Everything a plugin does to the rest of the gateway goes through this object, so the host can
account for it (counters per instance, tasks to cancel, cursors to close) and tests can hand a
plugin a real context on a real journal.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import structlog

from gateway.journal import Consumer, Filter, Journal
from gateway.model.command import Command, CommandResult
from gateway.model.event import Event
from gateway.model.kinds import KindError, KindRegistry, Phase
from gateway.sdk.clock import Clock

if TYPE_CHECKING:  # the registry imports the SDK's clock; import it for typing only
    from gateway.registry.registry import Registry
    from gateway.registry.statedb import StateStore


class PublishError(ValueError):
    """An event the gateway refuses (unregistered kind, phase not allowed); nothing was written."""


class ContextBase:
    """What the in-process context and the one in an isolated child do alike: build events,
    run supervised tasks, and release both when the instance stops."""

    instance_id: str
    kinds: KindRegistry
    clock: Clock
    counters: Counter[str]
    _tasks: set[asyncio.Task[Any]]
    _consumers: list[Any]  # journal consumers, or their proxies in a child: each has close()
    _on_task_failed: Callable[[BaseException], None]

    def event(
        self,
        kind: str,
        source: str,
        phase: Phase | str = Phase.ALARM,
        occurred_at: datetime | None = None,
        **fields: Any,
    ) -> Event:
        """Build an event with this kind's default priority, this instance and the clock's time."""
        try:
            spec = self.kinds.check(kind, phase)
        except KindError as exc:
            self.counters["events_rejected"] += 1
            raise PublishError(str(exc)) from None
        now = self.clock.now()
        fields.setdefault("priority", spec.priority)
        fields.setdefault("plugin", self.instance_id)
        return Event(
            kind=kind,
            phase=Phase(phase),
            source=source,
            occurred_at=occurred_at or now,
            received_at=now,
            **fields,
        )

    # -- tasks ---------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run a task supervised by the host: if it raises, the instance is restarted."""
        task = asyncio.create_task(
            coro, name=f"{self.instance_id}:{name or getattr(coro, '__name__', 'task')}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._on_task_failed(exc)

    async def close(self) -> None:
        """Cancel spawned tasks and close consumers (after the plugin's ``stop``)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in self._consumers:
            consumer.close()
        self._consumers.clear()


class PluginContext(ContextBase):
    def __init__(
        self,
        *,
        instance_id: str,
        plugin_name: str,
        site: str,
        journal: Journal,
        registry: Registry,
        kinds: KindRegistry,
        state: StateStore,
        clock: Clock,
        on_task_failed: Callable[[BaseException], None],
        dispatch: Callable[[Command], Awaitable[CommandResult]] | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.plugin_name = plugin_name
        self.site = site
        self.journal = journal
        self.registry = registry
        self.kinds = kinds
        self.state = state
        self.clock = clock
        self.log = structlog.get_logger(f"anfang.plugin.{plugin_name}").bind(instance=instance_id)
        self.counters: Counter[str] = Counter()
        self.published_by_kind: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._consumers: list[Consumer] = []
        self._on_task_failed = on_task_failed
        self._dispatch = dispatch

    # -- events --------------------------------------------------------------------------------

    async def publish(self, event: Event) -> int:
        """Journal an event; returns its seq once it is durable (ACK your device after this).

        Raises PublishError for a kind that is not registered or a phase the kind does not take,
        JournalWriteError when the journal could not write it (do not ACK then).
        """
        try:
            self.kinds.check(event.kind, event.phase)
        except KindError as exc:
            self.counters["events_rejected"] += 1
            self.log.error("event refused", kind=event.kind, reason=str(exc))
            raise PublishError(str(exc)) from None
        if event.plugin is None:
            event = event.model_copy(update={"plugin": self.instance_id})
        device = "/".join(event.source.split("/")[:2])
        if self.registry.get_device(device) is None:
            self.counters["unregistered_sources"] += 1
            self.registry.upsert_device(
                device, kind="unknown", plugin=self.instance_id, unknown=True
            )
            self.log.warning(
                "event from an unregistered device; registered it as unknown", source=event.source
            )
        seq = await self.journal.append(event)
        self.counters["events_published"] += 1
        self.published_by_kind[event.kind] += 1
        await self.registry.heard(event.source)
        return seq

    def subscribe(
        self,
        flt: Filter | None = None,
        cursor: str | None = None,
        *,
        new_cursor_start: Literal["beginning", "head"] = "beginning",
    ) -> Consumer:
        """Read the journal from a durable cursor (named per instance) or from now on. A cursor
        seen for the first time starts at the journal's beginning, or at its head when a
        connector should not replay the site's history on its first start."""
        name = None if cursor is None else f"{self.instance_id}.{cursor}"
        consumer = self.journal.subscribe(flt, name, new_cursor_start=new_cursor_start)
        self._consumers.append(consumer)
        return consumer

    async def dispatch(self, command: Command) -> CommandResult:
        """Send a command to whichever instance owns its target (rules, fire release, bridges).

        Both the command and its result are journaled; ``issued_by`` should name this instance.
        """
        if self._dispatch is None:
            raise RuntimeError("this context has no command dispatcher")
        self.counters["commands_sent"] += 1
        return await self._dispatch(command)

    async def report_clock(self, device: str, device_time: datetime) -> float:
        """Tell the registry what a device's clock says; returns the offset in seconds."""
        return await self.registry.report_clock(device, device_time)
