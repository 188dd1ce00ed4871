"""Command dispatch: find who carries a command out, hold it to its deadline, journal both ends.

Every command is journaled before anything is done with it and its result after, whatever the
result is, so "who did what to which device" is always on record (GB 50348-2018 §6.4.1). A
plugin that raises or answers with nonsense gets a ``failed`` result, never a crash.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from gateway import logs
from gateway.host.instance import InstanceRunner, InstanceState
from gateway.journal import Journal
from gateway.model.command import DEFAULT_DEADLINE_S, Command, CommandResult, ResultStatus
from gateway.registry.areas import AREA_ACTIONS, ZONE_ACTIONS
from gateway.registry.registry import Registry, Target
from gateway.sdk.clock import Clock

log = structlog.get_logger("anfang.commands")

LATENCY_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds of the command latency histogram (seconds), as /api/v1/metrics reports it."""


class CommandDispatcher:
    def __init__(
        self,
        journal: Journal,
        registry: Registry,
        runners: Callable[[str], InstanceRunner | None],
        clock: Clock,
    ) -> None:
        self._journal = journal
        self._registry = registry
        self._runners = runners
        self._clock = clock
        self.counters: Counter[str] = Counter()
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)
        """Commands by duration: one count per bucket of LATENCY_BUCKETS_S, the last is +Inf."""
        self.latency_sum_s = 0.0
        self._pending_results: set[asyncio.Future[None]] = set()

    async def dispatch(
        self, command: Command, *, await_result_record: bool = True
    ) -> CommandResult:
        """Journal the command, have its owner carry it out, journal and return the result.

        Raises JournalWriteError if the command itself cannot be journaled: then nothing is done.
        With ``await_result_record=False`` the result is returned as soon as it is known, its
        record handed to the journal but not yet durable: for a caller whose own next record
        follows it through the same writer (the rules engine's run record), so the order on
        disk is the same and one wake-up per command is saved.
        """
        accepted = await self.accept(command)
        return await self.complete(accepted, await_result_record=await_result_record)

    async def accept(self, command: Command) -> Command:
        """Give the command its deadline and journal it; what :meth:`complete` carries out.
        Split from it so an API can answer "accepted" only once the command can be found."""
        if command.deadline is None:
            deadline = self._clock.now() + timedelta(seconds=DEFAULT_DEADLINE_S)
            command = command.model_copy(update={"deadline": deadline})
        written = self._journal.submit(command)
        try:
            await asyncio.shield(written)
        except asyncio.CancelledError:
            # The caller went away while the command was being journaled: it is on record
            # but will not be carried out, and a command on record always gets its result.
            written.add_done_callback(functools.partial(self._never_carried_out, command))
            raise
        return command

    def _never_carried_out(self, command: Command, written: asyncio.Future[int]) -> None:
        if written.cancelled() or written.exception() is not None:
            return  # not journaled: nothing stands without a result
        result = _result(command, ResultStatus.FAILED, "cancelled before it was carried out")
        task = asyncio.ensure_future(self._journal_result(result))
        self._pending_results.add(task)
        task.add_done_callback(self._pending_results.discard)

    async def complete(
        self, command: Command, *, await_result_record: bool = True
    ) -> CommandResult:
        """Carry out an accepted command; its result is journaled and returned."""
        started = self._clock.monotonic()
        try:
            result = await self._carry_out(command)
        except asyncio.CancelledError:
            # The caller went away; the command may have been carried out, so record that.
            cancelled = _result(command, ResultStatus.FAILED, "cancelled before an answer")
            await asyncio.shield(self._journal_result(cancelled))
            raise
        self.counters[result.status.value] += 1
        self._observe(self._clock.monotonic() - started)
        if await_result_record:
            await self._journal_result(result)
        else:
            self._submit_result(result)
        if logs.enabled(logging.INFO):
            log.info(
                "command",
                id=command.id,
                target=command.target,
                action=command.action,
                issued_by=command.issued_by,
                status=result.status.value,
                detail=result.detail,
                ms=round((self._clock.monotonic() - started) * 1000, 1),
            )
        return result

    def _observe(self, seconds: float) -> None:
        self.latency_sum_s += seconds
        for index, bound in enumerate(LATENCY_BUCKETS_S):
            if seconds <= bound:
                self.latency_buckets[index] += 1
                return
        self.latency_buckets[-1] += 1

    async def _journal_result(self, result: CommandResult) -> None:
        try:
            await self._journal.append(result)
        except Exception as exc:  # the journal raises its own fault alarm
            self._result_lost(result, exc)

    def _submit_result(self, result: CommandResult) -> None:
        """Hand the result's record to the journal without waiting for it to be durable."""
        try:
            written = self._journal.submit(result)
        except Exception as exc:
            self._result_lost(result, exc)
            return
        written.add_done_callback(functools.partial(self._result_written, result))

    def _result_written(self, result: CommandResult, written: asyncio.Future[int]) -> None:
        if not written.cancelled() and written.exception() is not None:
            self._result_lost(result, written.exception())

    def _result_lost(self, result: CommandResult, exc: BaseException | None) -> None:
        self.counters["results_not_journaled"] += 1
        log.error("command result not journaled", command=result.command_id, error=str(exc))

    async def _carry_out(self, command: Command) -> CommandResult:
        target = self._registry.resolve_target(command.target)
        if target is None:
            return _result(
                command, ResultStatus.FAILED, f"no device, point or area {command.target}"
            )
        refusal = _refusal(target, command.action)
        if refusal is not None:
            return _result(command, ResultStatus.UNSUPPORTED, refusal)
        if command.action == "area.arm" and command.params.get("mode", "away") not in (
            "away",
            "stay",
        ):
            return _result(
                command,
                ResultStatus.FAILED,
                f"params.mode must be 'away' or 'stay', not {command.params.get('mode')!r}",
            )
        if target.owner is None:
            return _result(
                command, ResultStatus.FAILED, f"{target.address} has no plugin instance to run it"
            )
        runner = self._runners(target.owner)
        if runner is None or runner.plugin is None:
            return _result(
                command, ResultStatus.FAILED, f"plugin instance {target.owner} is not configured"
            )
        if command.action not in runner.plugin_cls.actions:
            return _result(
                command,
                ResultStatus.UNSUPPORTED,
                f"plugin {runner.plugin_cls.name} (instance {target.owner}) does not support "
                f"{command.action}; it supports: {', '.join(runner.plugin_cls.actions) or 'none'}",
            )
        if runner.status.state is not InstanceState.RUNNING:
            return _result(
                command,
                ResultStatus.FAILED,
                f"plugin instance {target.owner} is {runner.status.state.value}"
                + (
                    f" (last error: {runner.status.last_error})" if runner.status.last_error else ""
                ),
            )
        assert command.deadline is not None
        remaining = (command.deadline - self._clock.now()).total_seconds()
        if remaining <= 0:
            return _result(command, ResultStatus.TIMEOUT, "the deadline passed before dispatch")
        # Awaited in this task under a timeout: no extra task, future and wait set per command
        # (they were a visible share of the linkage path at 1,000 commands/s).
        limit = asyncio.timeout(remaining)
        try:
            async with limit:
                answer: Any = await runner.plugin.execute(command)
        except TimeoutError as exc:
            if not limit.expired():  # the plugin's own timeout: a failure like any exception
                self.counters["plugin_errors"] += 1
                return _result(
                    command, ResultStatus.FAILED, f"{target.owner} raised TimeoutError: {exc}"
                )
            return _result(
                command, ResultStatus.TIMEOUT, f"no answer from {target.owner} in {remaining:.1f} s"
            )
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our caller is cancelling us, not the plugin
            self.counters["plugin_errors"] += 1
            return _result(command, ResultStatus.FAILED, f"{target.owner} cancelled the command")
        except Exception as exc:
            self.counters["plugin_errors"] += 1
            log.error("plugin execute raised", instance=target.owner, error=repr(exc))
            return _result(
                command, ResultStatus.FAILED, f"{target.owner} raised {type(exc).__name__}: {exc}"
            )
        if not isinstance(answer, CommandResult):
            self.counters["plugin_errors"] += 1
            return _result(
                command,
                ResultStatus.FAILED,
                f"{target.owner} answered with a {type(answer).__name__}, not a CommandResult",
            )
        return _normalise(command, answer)


def _refusal(target: Target, action: str) -> str | None:
    """Why the target cannot take this action, judged from the registry alone."""
    if target.type == "area" and action not in AREA_ACTIONS:
        return f"{target.address} is an area; areas take {', '.join(AREA_ACTIONS)}"
    if target.type != "area" and action in AREA_ACTIONS:
        return f"{action} targets an area, and {target.address} is a {target.type}"
    if action in ZONE_ACTIONS and target.type != "point":
        return f"{action} targets a zone (a point), and {target.address} is a {target.type}"
    if target.capabilities and action not in target.capabilities:
        return (
            f"{target.address} does not support {action}; it supports: "
            f"{', '.join(target.capabilities)}"
        )
    return None


def _normalise(command: Command, answer: CommandResult) -> CommandResult:
    """Tie the plugin's result to its command; record the arming mode for area state."""
    update: dict[str, Any] = {}
    if (answer.command_id, answer.target, answer.action) != (
        command.id,
        command.target,
        command.action,
    ):
        update.update(command_id=command.id, target=command.target, action=command.action)
    if command.action == "area.arm" and "mode" not in answer.data:
        update["data"] = {**answer.data, "mode": command.params.get("mode", "away")}
    return answer.model_copy(update=update) if update else answer


def _result(command: Command, status: ResultStatus, detail: str) -> CommandResult:
    return CommandResult(
        command_id=command.id,
        target=command.target,
        action=command.action,
        status=status,
        detail=detail[:2000],
    )
