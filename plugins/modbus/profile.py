"""Device profiles: a register table, how to decode each point, and what it means canonically.

A profile is data (YAML in ``profiles/``), so an installer adds a device without code. The model
below checks each field; :func:`check_profile` checks what spans fields (overlapping registers,
alarms on bits a point does not have, actions writing read-only points) and names the key path
of every problem, so ``anfang check`` points at the line to fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.model.common import ACTION_PATTERN

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Table(StrEnum):
    """The four Modbus data tables, each with its own read function code."""

    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)


class DataType(StrEnum):
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    F32 = "f32"
    STRING = "string"
    BOOL = "bool"

    @property
    def is_integer(self) -> bool:
        return self in (DataType.U16, DataType.S16, DataType.U32, DataType.S32)


Order = Literal["big", "little"]


class Defaults(Strict):
    word_order: Order = Field(default="big", description="32-bit values: 'big' = high word first")
    byte_order: Order = Field(default="big", description="within a register: 'big' = as sent")
    interval_s: float = Field(default=5.0, gt=0, description="how often points are read")
    heartbeat_s: float | None = Field(
        default=300.0, gt=0, description="telemetry is sent at least this often, changed or not"
    )


class Limits(Strict):
    """What the device accepts in one read (the block planner never asks for more)."""

    max_registers_per_read: int = Field(default=125, ge=1, le=125, description="FC3/FC4 quantity")
    max_bits_per_read: int = Field(default=2000, ge=1, le=2000, description="FC1/FC2 quantity")
    max_gap: int = Field(
        default=0,
        ge=0,
        le=124,
        description="unused registers a read may span to join two blocks (0: never read gaps)",
    )


class Point(Strict):
    table: Table = Field(default=Table.HOLDING, description="data table")
    address: int = Field(ge=0, le=65535, description="protocol address (register 40001 is 0)")
    type: DataType = Field(default=DataType.U16, description="how the registers are decoded")
    length: int | None = Field(default=None, ge=1, le=125, description="registers of a string")
    scale: float | None = Field(default=None, description="value = raw × scale (+ offset)")
    scale_exp2: int | None = Field(
        default=None, ge=-32, le=32, description="value = raw × 2^n (APC: n = -scale bits)"
    )
    offset: float = Field(default=0.0, description="added after scaling")
    word_order: Order | None = Field(default=None, description="overrides defaults.word_order")
    byte_order: Order | None = Field(default=None, description="overrides defaults.byte_order")
    unit: str | None = Field(default=None, max_length=16, description="unit of the value")
    enum: dict[int, str] | None = Field(default=None, description="raw value -> name")
    bits: dict[int, str] | None = Field(default=None, description="bit number -> name")
    invalid: list[int] = Field(default_factory=list, description="raw values meaning 'no value'")
    min: float | None = Field(default=None, description="values below are refused and counted")
    max: float | None = Field(default=None, description="values above are refused and counted")
    interval_s: float | None = Field(default=None, gt=0, description="overrides the default")
    deadband: float = Field(default=0.0, ge=0, description="a change smaller is not telemetry")
    heartbeat_s: float | None = Field(default=None, gt=0, description="overrides the default")
    telemetry: bool = Field(default=True, description="send the value as telemetry")
    writable: bool = Field(default=False, description="output.set may write it")
    description: str | None = Field(default=None, description="what the value is")

    @property
    def size(self) -> int:
        """Registers (or bits) the point occupies."""
        if self.type in (DataType.U32, DataType.S32, DataType.F32):
            return 2
        if self.type is DataType.STRING:
            return self.length or 0
        return 1

    @property
    def factor(self) -> float:
        if self.scale_exp2 is not None:
            return math.ldexp(1.0, self.scale_exp2)
        return 1.0 if self.scale is None else self.scale

    @property
    def numeric(self) -> bool:
        return self.type not in (DataType.STRING, DataType.BOOL) and not self.bits and not self.enum


class Alarm(Strict):
    kind: str = Field(description="canonical kind, e.g. power.on_battery")
    point: str = Field(description="the point the condition reads")
    bit: int | None = Field(default=None, ge=0, le=31, description="condition: this bit is set")
    below: float | None = Field(default=None, description="condition: value below this")
    above: float | None = Field(default=None, description="condition: value above this")
    equals: float | None = Field(default=None, description="condition: raw value equals this")
    hysteresis: float = Field(default=0.0, ge=0, description="restore only this far past it")
    text: str | None = Field(default=None, max_length=200, description="event text")

    def condition_count(self) -> int:
        return sum(x is not None for x in (self.bit, self.below, self.above, self.equals))


class Identity(Strict):
    vendor: str | None = Field(default=None, max_length=100, description="fixed vendor name")
    model: str | None = Field(default=None, description="point holding the model")
    serial: str | None = Field(default=None, description="point holding the serial number")
    firmware: str | None = Field(default=None, description="point holding the firmware version")


class Clock(Strict):
    point: str = Field(description="point holding the device time (seconds since epoch)")
    epoch: datetime = Field(
        default=datetime(1970, 1, 1, tzinfo=UTC), description="what 0 means (UTC)"
    )
    interval_s: float = Field(default=60.0, gt=0, description="how often the clock is read")

    @field_validator("epoch")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Write(Strict):
    point: str | None = Field(default=None, description="a point to write (with value)")
    table: Table | None = Field(default=None, description="or a raw table (coil or holding)")
    address: int | None = Field(default=None, ge=0, le=65535, description="raw address")
    value: float | bool | None = Field(default=None, description="value for a point write")
    registers: list[int] | None = Field(default=None, description="raw registers (FC16)")
    coil: bool | None = Field(default=None, description="raw coil value (FC5)")


class ReadBack(Strict):
    point: str = Field(description="the point read after the writes")
    equals: float | bool | str | None = Field(default=None, description="expected value")
    bit: int | None = Field(default=None, ge=0, le=31, description="expected set bit")
    within_s: float = Field(default=3.0, gt=0, le=60, description="how long to wait for it")


class Action(Strict):
    description: str | None = Field(default=None, description="what the action does")
    writes: list[Write] = Field(min_length=1, description="writes, in order")
    readback: ReadBack | None = Field(default=None, description="confirmation read")


class Profile(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="profile name")
    description: str = Field(default="", description="what devices it fits")
    device_kind: str = Field(default="ups", pattern=NAME_PATTERN, description="registry kind")
    defaults: Defaults = Field(default_factory=Defaults, description="point defaults")
    limits: Limits = Field(default_factory=Limits, description="what one read may ask")
    points: dict[str, Point] = Field(min_length=1, description="the register table")
    alarms: list[Alarm] = Field(default_factory=list, description="conditions -> kinds")
    identity: Identity | None = Field(default=None, description="model, serial, firmware")
    clock: Clock | None = Field(default=None, description="the device clock, if it has one")
    actions: dict[str, Action] = Field(default_factory=dict, description="commands")

    def point(self, name: str) -> Point:
        return self.points[name]

    def word_order(self, point: Point) -> Order:
        return point.word_order or self.defaults.word_order

    def byte_order(self, point: Point) -> Order:
        return point.byte_order or self.defaults.byte_order

    def interval(self, point: Point) -> float:
        return point.interval_s or self.defaults.interval_s

    def heartbeat(self, point: Point) -> float | None:
        return point.heartbeat_s or self.defaults.heartbeat_s


@dataclass(frozen=True)
class Issue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def check_profile(profile: Profile, known_kinds: set[str]) -> list[Issue]:
    """Everything that spans fields; an empty list means the profile can be polled."""
    issues: list[Issue] = []
    issues.extend(_check_points(profile))
    issues.extend(_check_alarms(profile, known_kinds))
    issues.extend(_check_refs(profile))
    issues.extend(_check_actions(profile))
    return issues


def _check_points(profile: Profile) -> list[Issue]:
    issues: list[Issue] = []
    taken: dict[Table, list[tuple[int, int, str]]] = {}
    for name, p in profile.points.items():
        where = f"points.{name}"
        if not re.fullmatch(NAME_PATTERN, name):
            issues.append(Issue(where, "point names are lower-case words (a-z, 0-9, _)"))
        if p.table.is_bits and p.type is not DataType.BOOL:
            issues.append(Issue(f"{where}.type", f"a {p.table} point is a bool, not {p.type}"))
        if not p.table.is_bits and p.type is DataType.BOOL:
            issues.append(Issue(f"{where}.type", "bool is for coil and discrete points"))
        if p.type is DataType.STRING and p.length is None:
            issues.append(Issue(f"{where}.length", "a string needs its length in registers"))
        if p.type is not DataType.STRING and p.length is not None:
            issues.append(Issue(f"{where}.length", "length is only for strings"))
        if p.address + p.size > 65536:
            issues.append(Issue(f"{where}.address", f"{p.address}+{p.size} runs past 65535"))
        limit = (
            profile.limits.max_bits_per_read
            if p.table.is_bits
            else profile.limits.max_registers_per_read
        )
        if p.size > limit:
            issues.append(Issue(where, f"{p.size} registers exceed one read ({limit})"))
        if p.scale is not None and p.scale_exp2 is not None:
            issues.append(Issue(f"{where}.scale", "give scale or scale_exp2, not both"))
        if p.scale == 0:
            issues.append(Issue(f"{where}.scale", "scale 0 would make every value 0"))
        if (p.enum or p.bits) and not p.type.is_integer:
            issues.append(Issue(where, f"enum and bits need an integer type, not {p.type}"))
        if p.bits and p.type in (DataType.S16, DataType.S32):
            issues.append(Issue(f"{where}.type", "a bit field is unsigned (u16 or u32)"))
        width = 16 * p.size
        for bit in p.bits or {}:
            if not 0 <= bit < width:
                issues.append(Issue(f"{where}.bits.{bit}", f"bit {bit} is not in 0..{width - 1}"))
        if p.min is not None and p.max is not None and p.min > p.max:
            issues.append(Issue(f"{where}.min", f"min {p.min:g} is above max {p.max:g}"))
        if p.writable and p.table in (Table.INPUT, Table.DISCRETE):
            issues.append(Issue(f"{where}.writable", f"{p.table} points are read-only"))
        for start, end, other in taken.get(p.table, []):
            if p.address < end and start < p.address + p.size:
                issues.append(
                    Issue(
                        f"{where}.address",
                        f"{p.table} {p.address}..{p.address + p.size - 1} overlaps "
                        f"points.{other} ({start}..{end - 1})",
                    )
                )
        taken.setdefault(p.table, []).append((p.address, p.address + p.size, name))
    return issues


def _check_alarms(profile: Profile, known_kinds: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    for i, alarm in enumerate(profile.alarms):
        where = f"alarms[{i}]"
        if alarm.kind not in known_kinds:
            issues.append(Issue(f"{where}.kind", f"unknown kind {alarm.kind!r}"))
        if alarm.condition_count() != 1:
            issues.append(Issue(where, "give exactly one of bit, below, above, equals"))
        point = profile.points.get(alarm.point)
        if point is None:
            issues.append(Issue(f"{where}.point", f"no point named {alarm.point!r}"))
            continue
        if alarm.bit is not None:
            if point.type is DataType.BOOL:
                issues.append(Issue(f"{where}.bit", "a bool point has no bits; use equals: 1"))
            elif not point.type.is_integer or alarm.bit >= 16 * point.size:
                issues.append(
                    Issue(
                        f"{where}.bit",
                        f"points.{alarm.point} ({point.type}) has no bit {alarm.bit}",
                    )
                )
        if (alarm.below is not None or alarm.above is not None) and not (
            point.type.is_integer or point.type is DataType.F32
        ):
            issues.append(Issue(where, f"below/above need a number; {alarm.point} is {point.type}"))
    return issues


def _check_refs(profile: Profile) -> list[Issue]:
    issues: list[Issue] = []
    if profile.identity is not None:
        for key in ("model", "serial", "firmware"):
            ref = getattr(profile.identity, key)
            if ref is not None and ref not in profile.points:
                issues.append(Issue(f"identity.{key}", f"no point named {ref!r}"))
    if profile.clock is not None:
        point = profile.points.get(profile.clock.point)
        if point is None:
            issues.append(Issue("clock.point", f"no point named {profile.clock.point!r}"))
        elif point.type not in (DataType.U32, DataType.S32, DataType.U16):
            issues.append(Issue("clock.point", "the clock is an integer count of seconds"))
    return issues


def _check_actions(profile: Profile) -> list[Issue]:
    issues: list[Issue] = []
    for name, action in profile.actions.items():
        where = f"actions.{name}"
        if not re.fullmatch(ACTION_PATTERN, name):
            issues.append(Issue(where, "action names are dotted words, e.g. 'ups.self_test'"))
        for i, write in enumerate(action.writes):
            issues.extend(_check_write(profile, write, f"{where}.writes[{i}]"))
        if action.readback is not None and action.readback.point not in profile.points:
            issues.append(
                Issue(f"{where}.readback.point", f"no point named {action.readback.point!r}")
            )
    return issues


def _check_write(profile: Profile, write: Write, where: str) -> list[Issue]:
    if write.point is not None:
        point = profile.points.get(write.point)
        if point is None:
            return [Issue(f"{where}.point", f"no point named {write.point!r}")]
        if write.value is None:
            return [Issue(f"{where}.value", "a point write needs a value")]
        if point.table in (Table.INPUT, Table.DISCRETE):
            return [Issue(f"{where}.point", f"{write.point} is a read-only {point.table} point")]
        return []
    if write.address is None or write.table is None:
        return [Issue(where, "give point (and value), or table and address")]
    if write.table is Table.COIL and write.coil is None:
        return [Issue(f"{where}.coil", "a coil write needs coil: true or false")]
    if write.table is Table.HOLDING and not write.registers:
        return [Issue(f"{where}.registers", "a register write needs registers: [..]")]
    if write.table in (Table.INPUT, Table.DISCRETE):
        return [Issue(f"{where}.table", f"{write.table} is read-only")]
    bad = [r for r in write.registers or [] if not 0 <= r <= 0xFFFF]
    if bad:
        return [Issue(f"{where}.registers", f"{bad} are not 16-bit values")]
    return []


def issue_paths(loc: tuple[Any, ...]) -> str:
    """pydantic's ``loc`` as a key path: ``points.status.address``, ``alarms[2].kind``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
