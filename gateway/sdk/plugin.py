"""The Plugin base class: what a plugin declares, and the three things an instance does.

A plugin is a class. The host makes one instance per configured ``plugins[]`` entry, passing the
validated config and a :class:`~gateway.sdk.context.PluginContext`, then calls :meth:`start`. An
exception escaping ``start`` or any task made with ``ctx.spawn`` fails the instance; the host
journals ``plugin.fault`` and restarts it with backoff, never touching other instances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.kinds import KindSpec
from gateway.sdk.codec import CodecSpec
from gateway.sdk.conformance import ConformanceSpec
from gateway.sdk.sender import SenderSpec

if TYPE_CHECKING:
    from gateway.sdk.context import PluginContext


class NoConfig(BaseModel):
    """For plugins without settings: any key is an error."""

    model_config = ConfigDict(extra="forbid")


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Plugin(Generic[ConfigT]):
    """Subclass, set the class attributes, override what you need."""

    name: ClassVar[str]
    """Unique plugin name, lower-case; also the namespace of its own event kinds."""
    version: ClassVar[str] = "0.0.0"
    description: ClassVar[str] = ""
    protocols: ClassVar[tuple[str, ...]] = ()
    Config: ClassVar[type[BaseModel]] = NoConfig
    device_kinds: ClassVar[tuple[str, ...]] = ()
    actions: ClassVar[tuple[str, ...]] = ()
    """Command actions instances can execute (e.g. ``camera.goto_preset``)."""
    kinds: ClassVar[tuple[KindSpec, ...]] = ()
    """Event kinds this plugin adds, each named ``<name>.<something>``."""
    codecs: ClassVar[tuple[CodecSpec, ...]] = ()
    """Sans-IO decoders of the protocols this plugin speaks, for ``anfang decode`` and the kit."""
    senders: ClassVar[tuple[SenderSpec, ...]] = ()
    """Test transmitters of the plugin's protocol for ``anfang send`` (an end-to-end check)."""
    conformance: ClassVar[ConformanceSpec] = ConformanceSpec()
    """How the conformance kit configures and exercises an instance (``anfang conformance``)."""

    def __init__(self, config: ConfigT, ctx: PluginContext) -> None:
        self.config = config
        self.ctx = ctx

    async def start(self) -> None:
        """Open connections, register devices, spawn tasks with ``self.ctx.spawn``. Return soon."""

    async def stop(self) -> None:
        """Release what ``start`` took. Spawned tasks are cancelled by the host after this."""

    def health(self) -> dict[str, Any] | None:
        """What an operator should see about this instance beyond running/failed (a notifier's
        last delivery error, a link's backlog); shown to authenticated users by
        ``GET /api/v1/instances``. None: nothing to add. Must be quick and never raise."""
        return None

    async def execute(self, command: Command) -> CommandResult:
        """Carry out a command on a device this instance owns; the default refuses politely."""
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.UNSUPPORTED,
            detail=f"plugin {self.name} does not implement {command.action}",
        )
