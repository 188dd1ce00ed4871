"""Registry entities: sites' devices, their points, and areas (partitions) with arming state."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.address import AddressStr
from gateway.model.common import UtcDatetime

GB_CODE_PATTERN = r"^\d{20}$"


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class Device(BaseModel):
    """A physical or logical device; ``local_id`` is the plugin's own identifier for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    address: AddressStr
    kind: str = Field(max_length=64)
    gb_code: str | None = Field(default=None, pattern=GB_CODE_PATTERN)
    name: str | None = Field(default=None, max_length=200)
    vendor: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    firmware: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=200)
    plugin: str | None = Field(default=None, max_length=64)
    local_id: str | None = Field(default=None, max_length=128)
    capabilities: list[str] = Field(default_factory=list)
    status: DeviceStatus = DeviceStatus.UNKNOWN
    last_seen: UtcDatetime | None = None
    supervision_s: float | None = Field(default=None, gt=0)
    clock_offset_s: float | None = None
    unknown: bool = False


class Point(BaseModel):
    """A zone, output, reader, door or other point of a device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    address: AddressStr
    kind: str = Field(max_length=64)
    gb_code: str | None = Field(default=None, pattern=GB_CODE_PATTERN)
    name: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=200)
    capabilities: list[str] = Field(default_factory=list)


class ArmingState(StrEnum):
    AWAY = "away"
    STAY = "stay"
    DISARMED = "disarmed"
    UNKNOWN = "unknown"


class Area(BaseModel):
    """A partition: groups points and carries arming state, bypasses and latched alarms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    site: str = Field(max_length=64)
    name: str = Field(max_length=64)
    gb_code: str | None = Field(default=None, pattern=GB_CODE_PATTERN)
    title: str | None = Field(default=None, max_length=200)
    device: AddressStr | None = Field(
        default=None, description="the panel that arms this area; its plugin takes area commands"
    )
    local_id: str | None = Field(
        default=None, max_length=32, description="the area's number on that panel (partition)"
    )
    arming: ArmingState = ArmingState.UNKNOWN
    bypassed: list[str] = Field(default_factory=list)
    latched: list[str] = Field(default_factory=list)
    changed_at: UtcDatetime | None = None

    @property
    def address(self) -> str:
        return f"{self.site}/{self.name}"
