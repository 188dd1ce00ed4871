"""The JSON body a webhook receiver gets: the request as journaled, plus where and when.

::

    {"type": "anfang.notification", "version": 1, "site": "hq",
     "id": "<notify.request event id>", "source": "hq/incidents",
     "requested_at": "2026-03-01T08:15:00Z", "sent_at": "2026-03-01T08:15:01Z", "attempt": 1,
     "request": {"channel": "ops-hook", "to": [], "subject": "…", "body": "…",
                 "incident": "…", "rule": "…", "escalation": null}}

``id`` is the same on every attempt (de-duplicate on it); ``sent_at`` is when this attempt was
made (refuse bodies much older than your clock: a replay). UTF-8, not ASCII-escaped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gateway.sdk.notifier import Notification

TYPE = "anfang.notification"
VERSION = 1


def body(n: Notification, *, site: str, now: datetime) -> bytes:
    doc: dict[str, Any] = {
        "type": TYPE,
        "version": VERSION,
        "site": site,
        "id": n.id,
        "source": n.source,
        "requested_at": n.requested_at.isoformat(),
        "sent_at": now.isoformat(),
        "attempt": n.attempt,
        "request": n.request.model_dump(mode="json"),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
