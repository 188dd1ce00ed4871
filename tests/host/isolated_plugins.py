"""Plugins that the isolation tests run out of process (the child imports them by module path)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from gateway.event_loop import running_loop_name
from gateway.journal import Filter
from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk import NoConfig, Plugin


class CrashyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_s: float = 0.02
    abort_after: int | None = None
    """Call os.abort() on this publish of the first run (a C library crashing the process)."""
    fail_in_start: bool = False


class CrashyPlugin(Plugin[CrashyConfig]):
    """Registers a device and publishes test.periodic; can abort the whole process once."""

    name = "crashy"
    version = "1.0.0"
    Config = CrashyConfig

    async def start(self) -> None:
        if self.config.fail_in_start:
            raise RuntimeError("cannot open /dev/ttyUSB0")
        self.source = f"{self.ctx.site}/crashy-{self.ctx.instance_id}"
        self.ctx.registry.upsert_device(self.source, kind="reader", plugin=self.ctx.instance_id)
        self.ctx.registry.supervise(self.source, 30.0)
        await self.ctx.report_clock(self.source, self.ctx.clock.now())
        self.ctx.state.set("pid", os.getpid())
        self.ctx.spawn(self._run(), name="publish")

    async def _run(self) -> None:
        n = 0
        while True:
            await self.ctx.publish(
                self.ctx.event(
                    "test.periodic", self.source, Phase.MOMENTARY, data={"pid": os.getpid()}
                )
            )
            n += 1
            if n == self.config.abort_after and not self.ctx.state.get("aborted"):
                self.ctx.state.set("aborted", True)
                os.abort()
            await asyncio.sleep(self.config.period_s)


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: SecretStr = SecretStr("")


class EchoPlugin(Plugin[EchoConfig]):
    """Answers test.echo with what it was sent, its pid, its (secret) token and its loop."""

    name = "echo"
    version = "1.0.0"
    Config = EchoConfig
    actions = ("test.echo", "area.arm")

    async def start(self) -> None:
        self.ctx.registry.upsert_device(
            f"{self.ctx.site}/echo-1", kind="relay", plugin=self.ctx.instance_id
        )

    async def execute(self, command: Command) -> CommandResult:
        if command.action == "area.arm":  # the panel's own number for the area, from the registry
            partition = self.ctx.registry.areas[command.target].local_id
            return CommandResult(
                command_id=command.id,
                target=command.target,
                action=command.action,
                status=ResultStatus.OK,
                data={"partition": partition},
            )
        if command.params.get("raise"):
            raise OSError("bus error talking to the relay")
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.OK,
            data={
                "pid": os.getpid(),
                "params": command.params,
                "token": self.config.token.get_secret_value(),
                "event_loop": running_loop_name(),
            },
        )


class RoguePlugin(Plugin[NoConfig]):
    """Publishes an event of a kind nobody registered: the host refuses it, the task fails."""

    name = "rogue"
    version = "1.0.0"

    async def start(self) -> None:
        self.ctx.spawn(self._run(), name="rogue")

    async def _run(self) -> None:
        await self.ctx.publish(
            Event(kind="nosuch.kind", phase=Phase.ALARM, priority=2, source=f"{self.ctx.site}/x")
        )


class ListenerPlugin(Plugin[NoConfig]):
    """Follows test.periodic through a durable cursor, keeping a count in its state."""

    name = "listener"
    version = "1.0.0"

    async def start(self) -> None:
        self.consumer = self.ctx.subscribe(Filter.build(kinds=["test.periodic"]), "seen")
        self.ctx.spawn(self._run(), name="listen")

    async def _run(self) -> None:
        count = self.ctx.state.get("count", 0)
        async for record in self.consumer:
            count += 1
            self.ctx.state.set("count", count)
            self.ctx.state.set("last", {"seq": record.seq, "source": record.event.source})
            self.consumer.commit(record.seq)


class StuckPlugin(Plugin[NoConfig]):
    """Its stop blocks the child's event loop, as a call into C that never returns would."""

    name = "stuck"
    version = "1.0.0"

    async def stop(self) -> None:
        time.sleep(60)


class ImpatientListenerPlugin(Plugin[NoConfig]):
    """Polls its consumer with a short timeout, as connectors with an idle heartbeat do."""

    name = "impatient"
    version = "1.0.0"

    async def start(self) -> None:
        self.consumer = self.ctx.subscribe(Filter.build(kinds=["test.manual"]), "seen")
        self.ctx.spawn(self._run(), name="listen")

    async def _run(self) -> None:
        while True:
            try:
                batch = await asyncio.wait_for(self.consumer.next_batch(), 0.05)
            except TimeoutError:
                continue  # the idle heartbeat; the request must not lose what it brings later
            seqs = self.ctx.state.get("seqs", [])
            self.ctx.state.set("seqs", seqs + [r.seq for r in batch])
            if batch:
                self.consumer.commit(batch[-1].seq)


class LedgerPlugin(Plugin[NoConfig]):
    """Uses the journal as connectors and receivers do (head, a read, a command put on record),
    keeps a counter of its own and reports health: all of which must reach the host."""

    name = "ledger"
    version = "1.0.0"
    Config = NoConfig
    actions = ("test.ledger",)

    def __init__(self, config: NoConfig, ctx: Any) -> None:
        super().__init__(config, ctx)
        self.calls = 0

    async def start(self) -> None:
        self.ctx.registry.upsert_device(
            f"{self.ctx.site}/ledger-1", kind="relay", plugin=self.ctx.instance_id
        )

    def health(self) -> dict[str, Any] | None:
        return {"calls": self.calls}

    async def execute(self, command: Command) -> CommandResult:
        journal = self.ctx.journal
        self.calls += 1
        self.ctx.counters["ledger_calls"] += 1
        head = journal.head()
        first = journal.reader.get(1)
        refused = Command(target=command.target, action="test.refused", issued_by="ledger")
        seqs = [
            await journal.append(refused),
            await journal.append(
                CommandResult(
                    command_id=refused.id,
                    target=refused.target,
                    action=refused.action,
                    status=ResultStatus.DENIED,
                    detail="not allowed here",
                )
            ),
        ]
        try:
            await journal.append(
                Event(kind="test.manual", phase="momentary", priority=4, source=command.target)
            )
            event_append = "accepted"
        except TypeError as exc:
            event_append = str(exc)
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.OK,
            data={
                "head": [head.seq, head.hash_hex],
                "committed_seq": journal.committed_seq,
                "first_kind": first.kind if first is not None else None,
                "appended": seqs,
                "event_append": event_append,
            },
        )
