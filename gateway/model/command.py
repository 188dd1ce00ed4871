"""Commands to devices and their results; both are journaled, so every action is on record."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.address import TargetStr
from gateway.model.common import ActionStr, JsonDict, UtcDatetime, utcnow
from gateway.model.ids import new_id

DEFAULT_DEADLINE_S = 10.0
"""A command built without a deadline gets this long to be carried out."""


class Command(BaseModel):
    """A request for a device (or area, or point) to do something."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    id: str = Field(default_factory=new_id, max_length=64)
    target: TargetStr
    action: ActionStr
    params: JsonDict = Field(default_factory=dict)
    issued_by: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=1000)
    deadline: UtcDatetime | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)


class ResultStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    UNSUPPORTED = "unsupported"
    DENIED = "denied"


class CommandResult(BaseModel):
    """What became of a command; ``detail`` says why when it is not ``ok``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    id: str = Field(default_factory=new_id, max_length=64)
    command_id: str = Field(max_length=64)
    target: TargetStr
    action: ActionStr
    status: ResultStatus
    detail: str = Field(default="", max_length=2000)
    data: JsonDict = Field(default_factory=dict)
    completed_at: UtcDatetime = Field(default_factory=utcnow)


class AuditEntry(BaseModel):
    """Who did what, from where, with what result (GB 50348 §6.4.1 operator log)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    id: str = Field(default_factory=new_id, max_length=64)
    at: UtcDatetime = Field(default_factory=utcnow)
    actor: str = Field(min_length=1, max_length=128)
    action: str = Field(pattern=r"^[a-z][a-z0-9_.]*$", max_length=100)
    target: str | None = Field(default=None, max_length=256)
    remote: str | None = Field(default=None, max_length=128)
    result: str = Field(default="ok", max_length=64)
    detail: JsonDict = Field(default_factory=dict)
