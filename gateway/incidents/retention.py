"""Which closed incidents stop being listed.

A gateway that runs for years must not hold every incident it ever had in memory and state:
closed ones go after ``keep_closed_days``, and beyond ``keep_closed_max`` the longest closed go
first. Open incidents always stay. What happened to each stays in the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from gateway.incidents.model import Incident


def closed_to_forget(
    incidents: Iterable[Incident], now: datetime, keep_days: float, keep_max: int
) -> list[Incident]:
    """The closed incidents past ``keep_days`` at ``now``, and the longest closed beyond
    ``keep_max``."""
    cutoff = now - timedelta(days=keep_days)
    closed = sorted((i for i in incidents if not i.is_open), key=_closed_at)
    excess = len(closed) - keep_max
    return [i for n, i in enumerate(closed) if n < excess or _closed_at(i) < cutoff]


def _closed_at(incident: Incident) -> datetime:
    return incident.closed_at or incident.opened_at
