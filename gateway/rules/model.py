"""The shape of a linkage rule in ``anfang.yaml`` (``rules:``) and in the rule files it includes.

Every key is checked when the config loads, predicates included, so a typo is reported with its
key path (``rules[2].when.where``) before the gateway starts, not when an alarm arrives.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from gateway.model.common import ACTION_PATTERN, TimeZoneName
from gateway.model.kinds import Phase
from gateway.rules.expr import ExpressionError, compile_expression

RULE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_KIND_GLOB = re.compile(r"^[a-z0-9_.*?\[\]!-]+$")
TEMPLATE_FIELDS = ("site", "source", "device", "area", "zone", "kind", "id")
_TEMPLATE = re.compile(r"\{([a-z_]+)\}")
_PLACEHOLDERS = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)


def _as_list(value: Any) -> Any:
    """``kind: intrusion`` reads as ``kind: [intrusion]``."""
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


StrList = Annotated[list[str], BeforeValidator(_as_list)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_expression(value: str | None) -> str | None:
    if value is not None:
        try:
            compile_expression(value)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from None
    return value


def _check_template(value: str) -> str:
    for name in _TEMPLATE.findall(value):
        if name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown placeholder {{{name}}} (use {_PLACEHOLDERS})")
    return value


class When(Strict):
    """Which events trigger the rule; every key given must match (empty keys match all)."""

    kind: StrList = Field(
        default_factory=list,
        description="kind prefixes ('intrusion' also matches 'intrusion.perimeter') or globs",
    )
    source: StrList = Field(default_factory=list, description="address globs, e.g. 'hq/panel-1/*'")
    area: StrList = Field(default_factory=list, description="area names the event belongs to")
    phase: Annotated[list[Phase], BeforeValidator(_as_list)] = Field(default_factory=list)
    max_priority: int | None = Field(default=None, ge=1, le=4, description="1 = only priority 1")
    where: str | None = Field(default=None, description="predicate on the event (docs/rules.md)")

    @field_validator("kind")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not _KIND_GLOB.fullmatch(pattern):
                raise ValueError(f"{pattern!r} is not a kind or kind glob")
        return value

    _where = field_validator("where")(classmethod(lambda cls, v: _check_expression(v)))


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


ALL_DAYS = list(Weekday)


class Window(Strict):
    """A weekly window in the site's wall-clock time; ``end`` before ``start`` crosses midnight
    (the window belongs to the day it starts on). ``start == end`` is the whole day."""

    days: Annotated[list[Weekday], BeforeValidator(_as_list)] = Field(
        default_factory=lambda: list(ALL_DAYS)
    )
    start: time = time(0, 0)
    end: time = time(0, 0)


class Schedule(Strict):
    """When a rule may act: inside (or, with ``outside``, outside) the windows."""

    windows: list[Window] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list, description="dates, site time")
    holidays_inside: bool = Field(
        default=True,
        description="a holiday counts as inside the schedule all day (after-hours rules)",
    )
    outside: bool = Field(default=False, description="hold outside the windows instead")
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA zone; the site's by default"
    )


class DeviceIs(Strict):
    address: str = Field(min_length=1)
    status: str = Field(pattern=r"^(online|offline|unknown)$")


class GroupBy(StrEnum):
    NONE = "none"
    AREA = "area"
    SOURCE = "source"
    DEVICE = "device"


class Correlate(Strict):
    """``count`` triggering events within ``within_s`` seconds, counting distinct ``distinct``
    values (two different zones = confirmed intrusion) within the same ``per`` group."""

    count: int = Field(ge=2)
    within_s: float = Field(gt=0)
    distinct: str | None = Field(
        default=None, pattern=r"^(source|zone|device|area)$", description="count distinct values"
    )
    per: GroupBy = GroupBy.NONE


class NotRestored(Strict):
    """The triggering alarm is still not restored ``within_s`` seconds later."""

    within_s: float = Field(gt=0)


AreaRef = Annotated[list[str] | bool, BeforeValidator(_as_list)]
"""Area names, or ``true`` for the area of the triggering event."""


class Condition(Strict):
    """One ``if`` entry: exactly one key."""

    armed: AreaRef | None = None
    disarmed: AreaRef | None = None
    schedule: Schedule | None = None
    device: DeviceIs | None = None
    correlate: Correlate | None = None
    not_restored: NotRestored | None = None
    where: str | None = None

    _where = field_validator("where")(classmethod(lambda cls, v: _check_expression(v)))

    @model_validator(mode="after")
    def _one_key(self) -> Condition:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "each condition has exactly one of: " + ", ".join(type(self).model_fields)
            )
        for key in ("armed", "disarmed"):
            if getattr(self, key) is False:
                raise ValueError(f"{key}: false means nothing; use the other condition")
        return self

    @property
    def type(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


class CommandAction(Strict):
    target: str = Field(min_length=1, description="address; may use {area}, {device}, {source}…")
    action: str = Field(pattern=ACTION_PATTERN)
    params: dict[str, Any] = Field(default_factory=dict)
    deadline_s: float | None = Field(default=None, gt=0)

    _target = field_validator("target")(classmethod(lambda cls, v: _check_template(v)))


class EventAction(Strict):
    """A derived event (e.g. ``intrusion.verified``); source defaults to the trigger's."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
    phase: Phase = Phase.ALARM
    source: str | None = None
    priority: int | None = Field(default=None, ge=1, le=4)
    text: str | None = Field(default=None, max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("source", "text")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value)


class IncidentAction(Strict):
    """Open an incident of ``class`` for the trigger (or join the open one of its source and
    kind), whatever the arming; with only ``note``, annotate the open one."""

    incident_class: str | None = Field(default=None, alias="class", max_length=64)
    note: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _something(self) -> IncidentAction:
        if self.incident_class is None and self.note is None:
            raise ValueError("give 'class' (open or join an incident), 'note', or both")
        if self.note is not None:
            _check_template(self.note)
        return self


class NotifyAction(Strict):
    """A notification over a notifier channel (a notifier plugin instance), from the journal."""

    channel: str = Field(min_length=1, max_length=100)
    to: list[str] = Field(default_factory=list)
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(default="", max_length=20_000)

    @field_validator("subject", "body")
    @classmethod
    def _templates(cls, value: str) -> str:
        return _check_template(value)


class Action(Strict):
    """One ``then`` entry: exactly one key."""

    command: CommandAction | None = None
    event: EventAction | None = None
    incident: IncidentAction | None = None
    notify: NotifyAction | None = None
    wait: float | None = Field(default=None, ge=0, le=86400, description="seconds")
    parallel: list[Action] | None = None
    sequence: list[Action] | None = None

    @model_validator(mode="after")
    def _one_key(self) -> Action:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "each action has exactly one of: " + ", ".join(type(self).model_fields)
            )
        return self

    @property
    def type(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


class RunMode(StrEnum):
    SINGLE = "single"  # a trigger while a run is active is dropped
    RESTART = "restart"  # a trigger cancels the active run and starts afresh
    QUEUED = "queued"  # runs one after another
    PARALLEL = "parallel"  # runs side by side


class Rule(Strict):
    name: str = Field(pattern=RULE_NAME_PATTERN, description="unique; names it in the journal")
    description: str | None = None
    enabled: bool = True
    when: When = Field(default_factory=When)
    if_: list[Condition] = Field(default_factory=list, alias="if")
    then: list[Action] = Field(min_length=1)
    mode: RunMode = RunMode.SINGLE
    max_runs: int = Field(
        default=10, ge=1, description="parallel: concurrent runs; queued: runs waiting or running"
    )
    debounce_s: float = Field(default=0.0, ge=0, description="ignore triggers this soon after one")
    cooldown_s: float = Field(default=0.0, ge=0, description="no new run this soon after a run")


def commands_of(actions: list[Action]) -> list[CommandAction]:
    """Every command a rule may send, nested groups included (for checks and the dry run)."""
    out: list[CommandAction] = []
    for action in actions:
        if action.command is not None:
            out.append(action.command)
        for group in (action.parallel, action.sequence):
            if group is not None:
                out.extend(commands_of(group))
    return out
