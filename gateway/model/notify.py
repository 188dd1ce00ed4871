"""The notification contract between whoever asks (rules, incident escalation) and notifier plugins.

A notification is not a function call but two journal events: a ``notify.request`` whose data is a
:class:`NotifyRequest`, and later the ``notify.result`` a notifier plugin journals for it
(:class:`NotifyResult`). The notifier reads requests through its own durable cursor, so a request
survives a restart and a mail server that is down for an hour: delivery is retried from the journal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.event import Event
from gateway.model.kinds import Phase

REQUEST_KIND = "notify.request"
RESULT_KIND = "notify.result"


class NotifyRequest(BaseModel):
    """What to tell whom, over which channel (the notifier plugin instance's name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(min_length=1, max_length=100)
    to: list[str] = Field(default_factory=list, max_length=100)
    """Recipients in the channel's own terms (mail addresses, phone numbers); empty means the
    channel's configured default recipients."""
    subject: str = Field(max_length=500)
    body: str = Field(default="", max_length=20_000)
    incident: str | None = None
    """The incident this is about, if any (its id)."""
    rule: str | None = None
    """The rule that asked, if any."""
    escalation: int | None = None
    """For escalation notices: which repetition (1 is the first)."""


class NotifyResult(BaseModel):
    """What became of one request: the data of the ``notify.result`` event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: str
    """The id of the ``notify.request`` event."""
    channel: str
    status: Literal["delivered", "failed"]
    attempts: int = Field(ge=0)
    """Delivery attempts made; 0 when the request was refused unsent (invalid, expired)."""
    detail: str = Field(default="", max_length=1000)
    to: list[str] = Field(default_factory=list)


def request_event(
    request: NotifyRequest,
    *,
    source: str,
    priority: int,
    plugin: str,
    now: datetime,
    area: str | None = None,
    zone: str | None = None,
) -> Event:
    """The ``notify.request`` record for ``request``, about ``source``."""
    return Event(
        kind=REQUEST_KIND,
        phase=Phase.MOMENTARY,
        priority=priority,
        source=source,
        area=area,
        zone=zone,
        occurred_at=now,
        received_at=now,
        plugin=plugin,
        text=request.subject[:1000],
        data=request.model_dump(mode="json", exclude_none=True),
    )
