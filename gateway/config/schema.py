"""The shape of ``anfang.yaml``. Plugin instance configs are checked against each plugin's own
``Config`` model by the loader, once the installed plugins are known."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.event_loop import EventLoopChoice, EventLoopUnavailable, resolve
from gateway.incidents.config import IncidentsConfig
from gateway.journal.retention import RetentionPolicy
from gateway.model.address import SEGMENT_PATTERN, AddressStr
from gateway.model.common import TimeZoneName
from gateway.model.entities import GB_CODE_PATTERN
from gateway.rules.model import Rule

SEGMENT = f"^{SEGMENT_PATTERN}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteConfig(Strict):
    id: str = Field(pattern=SEGMENT, description="site segment of every address, e.g. 'hq'")
    name: str | None = None
    timezone: TimeZoneName = "UTC"
    gb_prefix: str = Field(
        default="3402000000", pattern=r"^\d{10}$", description="GB/T 28181 centre 8 + industry 2"
    )
    gb_network: int = Field(default=0, ge=0, le=9)


class JournalConfig(Strict):
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    prune_interval_s: float = Field(default=3600.0, gt=0)
    writer: Literal["process", "thread"] = Field(
        default="process",
        description="where the journal's writer runs: its own process keeps it and the event "
        "loop from waiting for each other's GIL (docs/journal.md); 'thread' for comparison",
    )


class Isolation(StrEnum):
    INLINE = "inline"
    PROCESS = "process"


class PluginInstanceConfig(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$", description="instance id, unique")
    plugin: str = Field(description="installed plugin name (see 'anfang plugins')")
    enabled: bool = True
    isolation: Isolation = Isolation.INLINE
    config: dict[str, Any] = Field(default_factory=dict)


class DevicePin(Strict):
    """Installer-set facts about a device or point that override what plugins report."""

    address: AddressStr
    name: str | None = None
    gb_code: str | None = Field(default=None, pattern=GB_CODE_PATTERN)
    area: str | None = Field(default=None, pattern=SEGMENT)
    location: str | None = None


class AreaConfig(Strict):
    name: str = Field(pattern=SEGMENT)
    title: str | None = None
    gb_code: str | None = Field(default=None, pattern=GB_CODE_PATTERN)
    device: AddressStr | None = Field(
        default=None, description="the panel that arms this area (takes area.* commands)"
    )
    local_id: str | None = Field(
        default=None, description="the area's number on that panel, as its events report it"
    )


class ApiConfig(Strict):
    """The REST API and live stream (started by ``anfang run``)."""

    enabled: bool = Field(default=True, description="serve the REST API")
    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8080, ge=0, le=65535, description="TCP port; 0 picks a free one")
    certfile: Path | None = Field(default=None, description="TLS certificate (PEM): HTTPS")
    keyfile: Path | None = Field(default=None, description="TLS private key (PEM)")
    ws_compression: bool = Field(
        default=False,
        description="offer permessage-deflate on the WebSocket stream: less traffic for clients "
        "on slow links, but CPU per client per message on the gateway",
    )


class LogConfig(Strict):
    level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    format: str = Field(default="auto", pattern=r"^(auto|json|console)$")


class GatewayConfig(Strict):
    site: SiteConfig
    data_dir: Path | None = None
    journal: JournalConfig = Field(default_factory=JournalConfig)
    plugins: list[PluginInstanceConfig] = Field(default_factory=list)
    devices: list[DevicePin] = Field(default_factory=list)
    areas: list[AreaConfig] = Field(default_factory=list)
    log: LogConfig = Field(default_factory=LogConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    rules: list[Rule] = Field(default_factory=list, description="linkage rules (docs/rules.md)")
    incidents: IncidentsConfig = Field(
        default_factory=IncidentsConfig,
        description="alarm classes, grades, response plans, escalation (docs/incidents.md)",
    )
    include: list[Path] = Field(
        default_factory=list,
        description="rule files (each with a top-level 'rules:' list), relative to this file",
    )
    event_loop: EventLoopChoice = Field(
        default="auto",
        description="the event loop: 'auto' (uvloop when installed), 'uvloop' or 'asyncio'; "
        "applies at the next start",
    )

    @field_validator("event_loop")
    @classmethod
    def _loop_available(cls, value: EventLoopChoice) -> EventLoopChoice:
        try:
            resolve(value)
        except EventLoopUnavailable as exc:
            raise ValueError(str(exc)) from None
        return value
