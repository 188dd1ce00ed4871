"""Small real plugins used to exercise the host (they run in the real host on a real journal)."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict

from gateway.model.kinds import Phase
from gateway.sdk import Plugin


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
