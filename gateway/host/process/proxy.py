"""The host-side stand-in for a plugin that runs in its own process (``isolation: process``).

Plugins wrapping C libraries (libosdp, pjsua2, PyAV) can take the whole process down with them.
Run out of process, such a crash is only the end of a child: the watcher task sees the socket
close, names the exit (``died (SIGABRT)``) and fails the instance, and the ordinary supervisor
journals ``plugin.fault`` and restarts it with backoff, exactly as for an inline plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from pathlib import Path
from typing import Any, ClassVar, cast

import structlog
from pydantic import BaseModel

from gateway.event_loop import running_loop_name
from gateway.host.process.codec import config_to_wire, kinds_to_wire
from gateway.host.process.errors import IsolatedPluginError, describe_exit
from gateway.host.process.rpc import Endpoint, PeerGoneError, RemoteError
from gateway.host.process.service import ChildService
from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.sdk.context import PluginContext
from gateway.sdk.plugin import Plugin

log = structlog.get_logger("anfang.isolation")

CHILD_MODULE = "gateway.host.process.child"


def isolated_plugin_class(cls: type[Plugin[Any]], data_dir: Path) -> type[Plugin[Any]]:
    """A class like ``cls`` (name, config, actions, kinds) whose instances run it in a child."""
    declared = [a for a in Plugin.__annotations__ if hasattr(cls, a)]  # every ClassVar of Plugin
    namespace: dict[str, Any] = {a: getattr(cls, a) for a in declared}
    namespace.update(
        target=cls,
        data_dir=Path(data_dir),
        __module__=__name__,
        __qualname__=f"Isolated{cls.__qualname__}",
        __doc__=f"{cls.__name__}, run in its own process.",
    )
    return cast(type[Plugin[Any]], type(f"Isolated{cls.__name__}", (IsolatedPlugin,), namespace))


class IsolatedPlugin(Plugin[BaseModel]):
    """Starts the child, serves its requests, forwards commands, reaps it when it ends."""

    target: ClassVar[type[Plugin[Any]]]
    data_dir: ClassVar[Path]
    start_timeout_s: ClassVar[float] = 60.0
    """For the child to import the plugin and return from its ``start``."""
    stop_timeout_s: ClassVar[float] = 5.0
    """For the child's ``stop`` (the host gives the whole stop 10 s)."""
    exit_timeout_s: ClassVar[float] = 2.0
    """For the process to exit once it answered ``stop`` or its socket closed; then SIGKILL."""

    def __init__(self, config: BaseModel, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.process: asyncio.subprocess.Process | None = None
        self._service = ChildService(ctx)
        self._link: Endpoint | None = None
        self._stopping = False
        self._stopped = False

    # -- start ---------------------------------------------------------------------------------

    async def start(self) -> None:
        target = self.target
        if "<locals>" in target.__qualname__ or target.__module__ == "__main__":
            raise IsolatedPluginError(
                f"{target.__module__}.{target.__qualname__} cannot be imported by another process; "
                "define the plugin class at the top level of an importable module"
            )
        await self._spawn()
        assert self._link is not None
        self.ctx.spawn(self._watch(), name="isolated-process")
        try:
            await asyncio.wait_for(
                self._link.request("start", **self._start_params()), self.start_timeout_s
            )
        except RemoteError as exc:
            error = IsolatedPluginError(str(exc))
            if exc.remote_traceback:
                error.add_note(f"in the isolated plugin process:\n{exc.remote_traceback}")
            raise error from None
        except PeerGoneError:
            code = await self._reap(self.exit_timeout_s)
            raise IsolatedPluginError(
                f"isolated plugin process {describe_exit(code)} while starting"
            ) from None
        except TimeoutError:
            raise IsolatedPluginError(
                f"isolated plugin did not start within {self.start_timeout_s:g} s"
            ) from None
        log.info("isolated plugin started", instance=self.ctx.instance_id, pid=self.process_id)

    async def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                self.process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    CHILD_MODULE,
                    "--fd",
                    str(theirs.fileno()),
                    "--event-loop",
                    running_loop_name(),  # the host's: measured as the host's
                    pass_fds=(theirs.fileno(),),
                    env=child_environment(),
                    stdin=asyncio.subprocess.DEVNULL,
                    start_new_session=True,  # the host alone decides when it stops (not ^C)
                )
            finally:
                theirs.close()
            reader, writer = await asyncio.open_unix_connection(sock=ours)
        except BaseException:
            ours.close()
            raise
        self._link = Endpoint(
            reader, writer, self._service.handle, name=f"isolated:{self.ctx.instance_id}"
        )

    def _start_params(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "plugin_class": f"{self.target.__module__}:{self.target.__qualname__}",
            "instance_id": ctx.instance_id,
            "plugin_name": ctx.plugin_name,
            "site": ctx.site,
            "config": config_to_wire(self.config),
            "data_dir": str(self.data_dir),
            "kinds": kinds_to_wire(ctx.kinds),
            "devices": self._service.owned_devices(),
            "areas": self._service.site_areas(),
            "log_level": _log_level(),
        }

    @property
    def process_id(self) -> int | None:
        return None if self.process is None else self.process.pid

    # -- watching ------------------------------------------------------------------------------

    async def _watch(self) -> None:
        """Serve the child until its socket closes; then fail the instance unless stopping."""
        assert self._link is not None
        await self._link.run()
        if self._stopping:
            return
        code = await self._reap(5.0)  # it closed the socket: it is exiting (maybe dumping core)
        raise IsolatedPluginError(f"isolated plugin process {describe_exit(code)}")

    async def _reap(self, timeout: float) -> int | None:
        """Wait for the child to exit, killing it after ``timeout``; returns its exit status."""
        proc = self.process
        if proc is None:
            return None
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                log.warning("isolated plugin did not exit; killing it", pid=proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        return proc.returncode

    # -- commands ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any] | None:
        """The child's ``health()`` as it last reported it (within a second)."""
        return self._service.health

    async def execute(self, command: Command) -> CommandResult:
        link = self._link
        if link is None or link.closed:
            return _failed(command, "the isolated plugin process is not running")
        try:
            answer = await link.request("execute", command=command.model_dump(mode="json"))
        except PeerGoneError:
            return _failed(command, "the isolated plugin process ended before it answered")
        except RemoteError as exc:
            raise IsolatedPluginError(str(exc)) from None
        return CommandResult.model_validate(answer)

    # -- stop ----------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Ask the child to stop, then close the socket and reap it, killing it if it lingers.

        Safe to call twice and after a failed start (the supervisor does both).
        """
        if self._stopped:
            return
        self._stopping = True
        link = self._link
        try:
            if link is not None and not link.closed:
                try:
                    await asyncio.wait_for(link.request("stop"), self.stop_timeout_s)
                except (PeerGoneError, RemoteError, TimeoutError) as exc:
                    log.warning(
                        "isolated plugin did not stop cleanly",
                        instance=self.ctx.instance_id,
                        error=f"{type(exc).__name__}: {exc}",
                    )
        finally:
            if link is not None:
                await link.close()  # EOF for the child: it exits if it has not already
            code = await self._reap(self.exit_timeout_s)
            self._stopped = True
            if self.process is not None:
                log.info(
                    "isolated plugin stopped",
                    instance=self.ctx.instance_id,
                    pid=self.process.pid,
                    exit=describe_exit(code),
                )


def child_environment() -> dict[str, str]:
    """The host's environment, with a PYTHONPATH that lets the child import what the host can."""
    env = dict(os.environ)
    paths = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _log_level() -> str:
    """The host's structlog level name, so the child logs at the same level."""
    level = getattr(structlog.get_logger().bind(), "get_effective_level", None)
    names = {10: "debug", 20: "info", 30: "warning", 40: "error"}
    return names.get(level() if callable(level) else 20, "info")


def _failed(command: Command, detail: str) -> CommandResult:
    return CommandResult(
        command_id=command.id,
        target=command.target,
        action=command.action,
        status=ResultStatus.FAILED,
        detail=detail,
    )
