"""State derived from the event stream for retained topics (sans-IO): whether a zone or door
is active, and the latest numeric values a device reported.

Only the journal header (kind, phase, source) is needed for point state, so the common case
costs no JSON parsing; telemetry parses the payload only when it carries ``data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.journal import JournalRecord

OPENS = frozenset({"door.opened", "door.forced", "door.held_open"})
CLOSES = frozenset({"door.closed"})
_EMPTY_DATA = b'"data":{}'


@dataclass(frozen=True, slots=True)
class PointState:
    active: bool
    kind: str
    phase: str


def point_state(record: JournalRecord) -> PointState | None:
    """ON for a condition that starts (or a door that opens), OFF when it ends; None when the
    event says nothing about the point's state (status reports, one-offs)."""
    kind, phase = record.kind, record.phase
    if kind in CLOSES:
        return PointState(False, kind, phase)
    if kind in OPENS and phase != "restore":
        return PointState(True, kind, phase)
    if kind.startswith(("device.", "arming.", "zone.", "test.", "gateway.", "journal.")):
        return None
    if phase == "alarm":
        return PointState(True, kind, phase)
    if phase == "restore":
        return PointState(False, kind, phase)
    return None


_GATEWAY_RECORDS = ("incident.", "notify.", "rules.")


def telemetry(record: JournalRecord) -> dict[str, float]:
    """Top-level numeric ``data`` values (battery %, volts, ...), or {} when there are none.

    The gateway's own records (an incident's grade, a rule run's counts) are not a device's
    telemetry."""
    raw = record.payload
    if raw is None or _EMPTY_DATA in raw or record.kind.startswith(_GATEWAY_RECORDS):
        return {}
    try:
        data = json.loads(raw).get("data")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value != value or value in (float("inf"), float("-inf")):
            continue
        if isinstance(key, str) and key.replace("_", "").isalnum():
            out[key] = value
    return out
