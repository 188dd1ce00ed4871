"""Small real plugins used to exercise the host (they run in the real host on a real journal)."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, ConfigDict

from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.kinds import Phase
from gateway.sdk import NoConfig, Plugin


class TickConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_s: float = 0.01
    crash_after: int | None = None  # raise after this many ticks (every run)
    crash_in_start: bool = False


class TickPlugin(Plugin[TickConfig]):
    """Publishes test.periodic at a steady rate; can be told to crash."""

    name = "tick"
    version = "1.0.0"
    Config = TickConfig

    async def start(self) -> None:
        if self.config.crash_in_start:
            raise RuntimeError("cannot open the serial port")
        self.source = f"{self.ctx.site}/tick-{self.ctx.instance_id}"
        self.ctx.registry.upsert_device(self.source, kind="peripheral", plugin=self.ctx.instance_id)
        self.ctx.spawn(self._run(), name="ticks")

    async def _run(self) -> None:
        n = 0
        while True:
            await self.ctx.publish(self.ctx.event("test.periodic", self.source, Phase.MOMENTARY))
            n += 1
            if self.config.crash_after is not None and n >= self.config.crash_after:
                raise ValueError(f"tick plugin crashed after {n} ticks")
            await asyncio.sleep(self.config.period_s)


class PanelPlugin(Plugin[NoConfig]):
    """An alarm panel with three zones that takes commands; ``params`` steer how it answers."""

    name = "panel"
    version = "1.0.0"
    actions = ("area.arm", "area.disarm", "zone.bypass", "zone.unbypass", "output.pulse")

    async def start(self) -> None:
        self.panel = f"{self.ctx.site}/panel-1"
        self.ctx.registry.upsert_device(self.panel, kind="panel", plugin=self.ctx.instance_id)
        for n in (1, 2, 3):
            self.ctx.registry.upsert_point(f"{self.panel}/zone-{n}", kind="zone", area="vault")
        self.ctx.registry.upsert_device(
            f"{self.ctx.site}/siren-1",
            kind="siren",
            plugin=self.ctx.instance_id,
            capabilities=["output.pulse"],
        )

    async def execute(self, command: Command) -> CommandResult:
        if command.params.get("raise"):
            raise OSError("bus error talking to the panel")
        if command.params.get("raise_timeout"):
            raise TimeoutError("serial read timed out")
        if command.params.get("raise_cancel"):
            raise asyncio.CancelledError
        if command.params.get("garbage"):
            return "OK"  # type: ignore[return-value]
        await asyncio.sleep(float(command.params.get("sleep", 0)))
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.OK,
        )


class BlockingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_s: float = 2.0


class BlockingPlugin(Plugin[BlockingConfig]):
    """Blocks the event loop once, the way a synchronous library call would."""

    name = "blocking"
    Config = BlockingConfig

    async def start(self) -> None:
        self.ctx.spawn(self._poll_serial_port(), name="poll")

    async def _poll_serial_port(self) -> None:
        await asyncio.sleep(0.2)
        time.sleep(self.config.block_s)  # the bug the watchdog exists to catch
        await asyncio.Event().wait()
