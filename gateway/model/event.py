"""The canonical event: what every plugin's protocol is normalised into."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.address import AddressStr
from gateway.model.common import JsonDict, UtcDatetime, utcnow
from gateway.model.ids import new_id
from gateway.model.kinds import KIND_PATTERN, Phase

Priority = Annotated[int, Field(ge=1, le=4, description="1 is the highest priority")]
KindStr = Annotated[str, Field(pattern=KIND_PATTERN, max_length=100)]


class Event(BaseModel):
    """One normalised occurrence; immutable once built.

    ``occurred_at`` is the device's clock (UTC) and ``received_at`` the gateway's; their
    difference, when the device clock is known to be off, is ``clock_offset_s``. ``seq`` is the
    journal position, filled in when the event is read back from the journal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    id: str = Field(default_factory=new_id, max_length=64)
    seq: int | None = Field(default=None, ge=1)
    kind: KindStr
    phase: Phase
    priority: Priority
    source: AddressStr
    area: str | None = Field(default=None, max_length=64)
    zone: str | None = Field(default=None, max_length=64)
    user: str | None = Field(default=None, max_length=64)
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
    received_at: UtcDatetime = Field(default_factory=utcnow)
    clock_offset_s: float | None = None
    plugin: str | None = Field(default=None, max_length=64)
    protocol: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=1000)
    data: JsonDict = Field(default_factory=dict)
    raw: str | None = Field(default=None, max_length=8192)
