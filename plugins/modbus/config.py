"""The instance's settings: connections (lines), the devices on them, and their profiles.

A device names its profile (a packaged one by name, an installer's by path) or gives it inline;
either way the profile is loaded and checked here, so ``anfang check`` reports a bad register
with both key paths: ``plugins[0].config.devices[1].profile`` and, inside the profile,
``points.battery_charge.address``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from gateway.model.address import SEGMENT_PATTERN
from plugins.modbus.kinds import known_kinds
from plugins.modbus.loader import ProfileError, load_profile
from plugins.modbus.profile import Profile, check_profile

DEFAULT_TIMEOUT_MS = 500.0
DEFAULT_PROBE_INTERVAL_S = 10.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _load(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return load_profile(value)
        except ProfileError as exc:
            raise ValueError(str(exc)) from None
    return value  # a mapping: validated as an inline Profile, with its full key path


def _check(profile: Profile) -> Profile:
    issues = check_profile(profile, known_kinds())
    if issues:
        raise ValueError("; ".join(str(issue) for issue in issues))
    return profile


ProfileRef = Annotated[Profile, BeforeValidator(_load), AfterValidator(_check)]


class ConnectionConfig(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$", description="name devices refer to")
    transport: Literal["tcp", "rtu_over_tcp", "rtu"] = Field(
        default="tcp",
        description="tcp (Modbus TCP), rtu_over_tcp (a serial server), rtu (a local serial port)",
    )
    host: str | None = Field(default=None, description="address of the device or serial server")
    port: int = Field(default=502, ge=1, le=65535, description="TCP port")
    serial_port: str | None = Field(default=None, description="serial device, e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=9600, ge=300, le=921600, description="serial speed (bit/s)")
    parity: Literal["N", "E", "O"] = Field(default="N", description="serial parity")
    stopbits: Literal[1, 2] = Field(default=1, description="serial stop bits")
    timeout_ms: float = Field(
        default=DEFAULT_TIMEOUT_MS, gt=0, le=60000, description="per-request answer timeout"
    )
    probe_interval_s: float = Field(
        default=DEFAULT_PROBE_INTERVAL_S,
        gt=0,
        description="a device that stopped answering is asked again this often (one request)",
    )
    pacing_ms: float | None = Field(
        default=None,
        ge=0,
        description="silence between requests; default 3.5 characters on RTU lines, 0 on TCP",
    )

    @model_validator(mode="after")
    def _where(self) -> ConnectionConfig:
        if self.transport == "rtu" and not self.serial_port:
            raise ValueError("transport rtu needs serial_port")
        if self.transport != "rtu" and not self.host:
            raise ValueError(f"transport {self.transport} needs host")
        return self

    @property
    def pacing_s(self) -> float:
        """Modbus over serial line §2.5.1.1: 3.5 character times between frames; above
        19200 bit/s a fixed 1.75 ms. A character is 11 bits (start, 8 data, parity/stop)."""
        if self.pacing_ms is not None:
            return self.pacing_ms / 1000
        if self.transport == "tcp":
            return 0.0
        if self.baudrate > 19200:
            return 0.00175
        return 3.5 * 11 / self.baudrate


class DeviceConfig(Strict):
    name: str = Field(pattern=f"^{SEGMENT_PATTERN}$", description="device part of its address")
    connection: str = Field(description="the connection (line) it is on")
    unit: int = Field(ge=1, le=247, description="Modbus unit (slave) id")
    profile: ProfileRef = Field(description="packaged profile name, a YAML path, or inline")
    title: str | None = Field(default=None, max_length=200, description="name in the registry")
    supervision_s: float | None = Field(
        default=None,
        gt=0,
        description="device.offline when not heard this long; default from its intervals",
    )


class ModbusConfig(Strict):
    connections: list[ConnectionConfig] = Field(min_length=1, description="TCP or serial lines")
    devices: list[DeviceConfig] = Field(default_factory=list, description="polled devices")
    queue_size: int = Field(
        default=10000,
        ge=100,
        description="readings waiting to be journaled before some are dropped",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ModbusConfig:
        lines = {c.name for c in self.connections}
        if len(lines) != len(self.connections):
            raise ValueError("connection names must be unique")
        names: set[str] = set()
        units: set[tuple[str, int]] = set()
        for i, device in enumerate(self.devices):
            if device.connection not in lines:
                raise ValueError(
                    f"devices[{i}].connection: no connection named {device.connection!r}"
                )
            if device.name in names:
                raise ValueError(f"devices[{i}].name: {device.name!r} is used twice")
            if (device.connection, device.unit) in units:
                raise ValueError(
                    f"devices[{i}].unit: unit {device.unit} is already on {device.connection}"
                )
            names.add(device.name)
            units.add((device.connection, device.unit))
        return self
