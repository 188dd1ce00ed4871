"""Plugins with one planted fault each: the kit must name exactly that fault.

Each is otherwise a complete plugin (metadata, documented config, registered devices), so a
report that fails anything else would be the kit's mistake.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.kinds import Phase
from gateway.sdk import CodecError, CodecSpec, ConformanceSpec, DecodeContext, Decoded, Plugin


class PlantedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_s: float = Field(default=0.05, description="seconds between test reports")


class Clean(Plugin[PlantedConfig]):
    """Reports test.periodic from a registered device; every planted plugin starts from this."""

    name = "clean"
    version = "1.0.0"
    description = "planted-fault baseline"
    protocols = ("simulation",)
    Config = PlantedConfig
    conformance = ConformanceSpec(run_s=0.5)
    fault: ClassVar[str] = ""

    async def start(self) -> None:
        self.source = f"{self.ctx.site}/sensor-1"
        self.ctx.registry.upsert_device(self.source, kind="peripheral", plugin=self.ctx.instance_id)
        self.ctx.spawn(self._run(), name="reports")

    async def _run(self) -> None:
        while True:
            await self.report()
            await asyncio.sleep(self.config.period_s)

    async def report(self) -> None:
        await self.ctx.publish(self.ctx.event("test.periodic", self.source, Phase.MOMENTARY))


class BlocksTheLoop(Clean):
    name = "blocks_loop"
    fault = "loop.never_blocks"

    async def report(self) -> None:
        time.sleep(0.4)  # a synchronous library call
        await super().report()


class LeaksATask(Clean):
    name = "leaks_task"
    fault = "leaks.tasks"

    async def start(self) -> None:
        await super().start()
        self.poller = asyncio.create_task(asyncio.Event().wait())  # not ctx.spawn: never cancelled


class LeaksASocket(Clean):
    name = "leaks_socket"
    fault = "leaks.sockets"

    async def start(self) -> None:
        await super().start()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # stop() forgets to close it


class NaiveDatetime(Clean):
    name = "naive_datetime"
    fault = "events.utc_times"

    async def report(self) -> None:
        event = self.ctx.event(
            "test.periodic", self.source, Phase.MOMENTARY, occurred_at=datetime.now()
        )
        await self.ctx.publish(event)


class UnregisteredKind(Clean):
    name = "unregistered_kind"
    fault = "events.kinds"

    async def report(self) -> None:
        await self.ctx.publish(self.ctx.event("unregistered_kind.beep", self.source))


class UnregisteredSource(Clean):
    name = "unregistered_source"
    fault = "events.sources"

    async def report(self) -> None:
        await self.ctx.publish(
            self.ctx.event("test.periodic", f"{self.ctx.site}/ghost", Phase.MOMENTARY)
        )


class TruncatedFrameError(CodecError):
    pass


def decode_truncating(frame: bytes, ctx: DecodeContext) -> Decoded:
    """Reads a 4-byte frame without checking its length first: IndexError on short frames."""
    if frame[0] != 0x41:
        raise TruncatedFrameError(f"frame must start with 'A', got {frame[:1]!r}")
    zone = frame[3]
    return Decoded({"zone": zone}, [])


VECTORS = Path(__file__).with_name("truncating_vectors.json")


class CodecRaisesIndexError(Clean):
    name = "codec_index_error"
    fault = "codec.truncating.fuzz"
    codecs = (
        CodecSpec(
            name="truncating",
            description="a codec that indexes past the end of short frames",
            decode=decode_truncating,
            error=TruncatedFrameError,
            vectors=VECTORS,
        ),
    )


PLANTED: tuple[type[Clean], ...] = (
    BlocksTheLoop,
    LeaksATask,
    LeaksASocket,
    NaiveDatetime,
    UnregisteredKind,
    UnregisteredSource,
    CodecRaisesIndexError,
)
