"""The webhook body, sans-IO: one JSON object in, a typed report out, no sockets.

A sender POSTs one report per request::

    {"account": "1234", "kind": "intrusion", "phase": "alarm", "zone": "5",
     "occurred_at": "2026-03-01T08:15:00+08:00", "text": "Back door", "data": {...}}

``account``, ``kind`` (a core kind) and ``phase`` are required; ``zone``, ``occurred_at`` (ISO-8601
with a UTC offset), ``text`` and ``data`` (an object kept on the event) are optional. Any other
key is refused, so a misspelt field is an error the sender sees, not a silently lost value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from gateway.model.kinds import KIND_PATTERN, Phase

from .errors import WebhookError

MAX_BODY = 8192
"""Largest body read; the journal keeps the body as the event's ``raw``, which holds 8 KiB."""
MAX_TEXT = 1000

FIELDS = ("account", "kind", "phase", "zone", "occurred_at", "text", "data")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,58}")
"""Accounts and zones become address segments (``acct-<account>``, ``zone-<zone>``)."""
_KIND = re.compile(KIND_PATTERN)
_PHASES = frozenset(phase.value for phase in Phase)


@dataclass(frozen=True, slots=True)
class Report:
    """One alarm report as the sender stated it."""

    account: str
    kind: str
    phase: Phase
    zone: str | None = None
    occurred_at: datetime | None = None
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (what ``anfang decode`` prints as ``message``)."""
        return {
            "account": self.account,
            "kind": self.kind,
            "phase": self.phase.value,
            "zone": self.zone,
            "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
            "text": self.text,
            "data": self.data,
        }


def _refuse_constant(name: str) -> NoReturn:
    raise WebhookError(f"{name} is not a JSON number")


def _load(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise WebhookError("the body is empty; send a JSON object")
    if len(body) > MAX_BODY:
        raise WebhookError(f"body of {len(body)} bytes is larger than {MAX_BODY}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookError(f"byte {exc.start + 1} of the body is not UTF-8") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except WebhookError:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise WebhookError(f"body is not JSON: {exc.msg} ({where})") from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting 5000 deep
        raise WebhookError(f"body is JSON this codec does not read: {exc}") from None
    if not isinstance(doc, dict):
        raise WebhookError(f"body must be a JSON object, not {type(doc).__name__}")
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        raise WebhookError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    return doc


def _identifier(doc: dict[str, Any], key: str) -> str | None:
    """A string (or a non-negative whole number) fit for an address segment."""
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise WebhookError(
            f"{key} {value!r} must be 1-59 letters, digits, '_', '.', ':' or '-' "
            "(or a whole number), starting with a letter or digit"
        )
    return value


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookError(f"occurred_at must be an ISO-8601 string, not {type(value).__name__}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise WebhookError(f"occurred_at {value!r} is not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise WebhookError(f"occurred_at {value!r} has no UTC offset (add Z or +08:00)")
    return when


def parse_body(body: bytes) -> Report:
    """One request body as a Report, or WebhookError naming the first rule it breaks."""
    doc = _load(body)
    account = _identifier(doc, "account")
    if account is None:
        raise WebhookError("account is required")
    kind, phase, text, data = doc.get("kind"), doc.get("phase"), doc.get("text"), doc.get("data")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise WebhookError(f"kind {kind!r} must be a kind such as 'intrusion' or 'trouble.ac_loss'")
    if phase not in _PHASES:
        raise WebhookError(f"phase {phase!r} must be one of {', '.join(sorted(_PHASES))}")
    if text is not None and not (isinstance(text, str) and len(text) <= MAX_TEXT):
        raise WebhookError(f"text must be a string of at most {MAX_TEXT} characters")
    if data is not None and not isinstance(data, dict):
        raise WebhookError(f"data must be a JSON object, not {type(data).__name__}")
    return Report(
        account=account,
        kind=kind,
        phase=Phase(phase),
        zone=_identifier(doc, "zone"),
        occurred_at=_time(doc.get("occurred_at")),
        text=text,
        data=data or {},
    )
