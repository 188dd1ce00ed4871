"""The isolated plugin process: ``python -m gateway.host.process.child --fd N``.

It runs one plugin instance for the host at the other end of socket ``N``: ``start``,
``execute`` and ``stop`` come from the host; events, registry updates and journal reads go back
to it. It never outlives its host (the socket closing ends it), and a task that raises ends it
too, after telling the host why. A C library that crashes it takes only this process down.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import importlib
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, cast, get_args

import structlog

from gateway import event_loop, logs
from gateway.event_loop import LoopName
from gateway.host.process.codec import kinds_from_wire
from gateway.host.process.remote import RemoteContext
from gateway.host.process.remote_journal import RemoteJournal
from gateway.host.process.rpc import Endpoint, PeerGoneError
from gateway.model.command import Command, CommandResult
from gateway.model.entities import Area, Device
from gateway.registry.statedb import StateDB, StateStore
from gateway.sdk.context import PluginContext
from gateway.sdk.plugin import Plugin

log = structlog.get_logger("anfang.isolation")

STOP_TIMEOUT_S = 4.0
"""For the plugin's own ``stop`` (the host waits 5 s for the answer, then closes the socket)."""
STATUS_EVERY_S = 1.0
"""How often the child checks whether its counters or health changed (sent only if they did)."""
EXIT_HOST_GONE = 3
EXIT_TASK_FAILED = 1


def load_class(spec: str) -> type[Plugin[Any]]:
    """``package.module:Outer.Inner`` to the class it names."""
    module_name, _, qualname = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, Plugin)):
        raise TypeError(f"{spec} is not a Plugin class")
    return obj


class Child:
    """One plugin instance and its context, driven by the host's requests."""

    def __init__(self) -> None:
        self.plugin: Plugin[Any] | None = None
        self.ctx: RemoteContext | None = None
        self._statedb: StateDB | None = None
        self._link: Endpoint
        self._exit: asyncio.Future[int]
        self._shutdown: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._status: asyncio.Task[None] | None = None
        self._log: structlog.typing.FilteringBoundLogger = log.bind(pid=os.getpid())

    async def main(self, sock: socket.socket) -> int:
        """Serve the host until told to stop, a task fails or the host goes; the exit code."""
        self._exit = asyncio.get_running_loop().create_future()
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        self._link = Endpoint(reader, writer, self.handle, name="host")
        reading = asyncio.create_task(self._link.run(), name="host-link")
        waits: set[asyncio.Future[Any]] = {reading, self._exit}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if not self._exit.done():
            problem = reading.exception() if not reading.cancelled() else None
            self._log.warning("host link closed; stopping", error=str(problem) if problem else None)
            await self.shutdown()
            self._finish(EXIT_HOST_GONE)
        await self._link.close()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        return self._exit.result()

    def _finish(self, code: int) -> None:
        if not self._exit.done():
            self._exit.set_result(code)

    # -- requests from the host ----------------------------------------------------------------

    async def handle(self, op: str, params: dict[str, Any]) -> Any:
        if op == "start":
            return await self._start(params)
        if op == "execute":
            return await self._execute(params)
        if op == "stop":
            await self.shutdown()
            self._finish(0)
            return None
        raise ValueError(f"unknown request {op!r} from the host")

    async def _start(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.plugin is not None:
            raise RuntimeError("the plugin is already started")
        instance_id = p["instance_id"]
        logs.configure(p.get("log_level", "info"))
        self._log = log.bind(pid=os.getpid(), instance=instance_id)
        cls = load_class(p["plugin_class"])
        config = cls.Config.model_validate(p["config"])
        self._statedb = StateDB(Path(p["data_dir"]) / "state.sqlite3")
        journal = RemoteJournal(self._link, Path(p["data_dir"]))
        self.ctx = RemoteContext(
            link=self._link,
            instance_id=instance_id,
            plugin_name=p["plugin_name"],
            site=p["site"],
            kinds=kinds_from_wire(p["kinds"]),
            state=StateStore(self._statedb, f"plugin:{instance_id}"),
            devices=[Device.model_validate(d) for d in p["devices"]],
            areas=[Area.model_validate(a) for a in p.get("areas", [])],
            on_task_failed=self._task_failed,
            journal=journal,
        )
        # The plugin is typed against PluginContext; RemoteContext offers the same API.
        self.plugin = cls(config, cast(PluginContext, self.ctx))
        await self.plugin.start()
        self._status = asyncio.create_task(self._report_status(), name="status")
        return {"pid": os.getpid()}

    async def _report_status(self) -> None:
        """Counters and ``health()`` to the host whenever they change (checked each second):
        the host shows them in /api/v1/metrics and /api/v1/instances as it does for inline
        plugins."""
        while self.plugin is not None and self.ctx is not None:
            try:
                health = self.plugin.health()
            except Exception as exc:  # health() must never raise; say so rather than die
                health = {"error": f"health() raised {type(exc).__name__}: {exc}"}
            status = self.ctx.status(health)
            if status is not None:
                with contextlib.suppress(PeerGoneError):
                    self._link.notify("status", **status)
            await asyncio.sleep(STATUS_EVERY_S)

    async def _execute(self, p: dict[str, Any]) -> Any:
        if self.plugin is None:
            raise RuntimeError("the plugin is not started")
        answer: Any = await self.plugin.execute(Command.model_validate(p["command"]))
        if not isinstance(answer, CommandResult):
            raise TypeError(f"execute answered with a {type(answer).__name__}, not a CommandResult")
        return answer.model_dump(mode="json")

    # -- failure and shutdown ------------------------------------------------------------------

    def _task_failed(self, exc: BaseException) -> None:
        """Tell the host which task failed and why, then stop and exit non-zero."""
        self._log.error("plugin task failed", error=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(PeerGoneError):
            self._link.notify(
                "failed",
                error=f"{type(exc).__name__}: {exc}"[:2000],
                traceback="".join(traceback.format_exception(exc))[-4000:],
            )
        task = asyncio.create_task(self._fail_exit(), name="failed-exit")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fail_exit(self) -> None:
        await self.shutdown()
        self._finish(EXIT_TASK_FAILED)

    async def shutdown(self) -> None:
        """Stop the plugin, cancel its tasks, close its state; once, whoever asks first."""
        if self._shutdown is None:
            self._shutdown = asyncio.create_task(self._stop_plugin(), name="shutdown")
        await asyncio.shield(self._shutdown)

    async def _stop_plugin(self) -> None:
        if self.plugin is not None:
            try:
                await asyncio.wait_for(self.plugin.stop(), STOP_TIMEOUT_S)
            except Exception as exc:
                self._log.warning("plugin stop failed", error=f"{type(exc).__name__}: {exc}")
        if self._status is not None:
            self._status.cancel()
            await asyncio.gather(self._status, return_exceptions=True)
        if self.ctx is not None:
            await self.ctx.close()
            if self.ctx.journal is not None:
                self.ctx.journal.close()
        if self._statedb is not None:
            self._statedb.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.host.process.child")
    parser.add_argument("--fd", type=int, required=True, help="socket to the host")
    parser.add_argument(
        "--event-loop", choices=get_args(LoopName), default="asyncio", help="the host's loop"
    )
    args = parser.parse_args(argv)
    faulthandler.enable()  # a crash in C prints the Python stack to stderr before dying
    logs.configure()
    sock = socket.socket(fileno=args.fd)
    code = event_loop.run(Child().main(sock), args.event_loop)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for threads a C library may have left behind


if __name__ == "__main__":
    main()
