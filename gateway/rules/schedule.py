"""Weekly schedules in the site's wall-clock time, holidays included.

A window is judged on local wall-clock time, so "18:00–08:00" means the same hours on both sides
of a DST change: the night it springs forward is an hour shorter, the night it falls back an hour
longer, and no instant is ever counted twice or lost. A window whose end is not after its start
crosses midnight and belongs to the day it starts on (Friday 18:00–08:00 covers early Saturday).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.rules.model import Schedule, Weekday, Window

_DAYS = list(Weekday)  # Monday first, as date.weekday()


def _in_window(window: Window, local: datetime) -> bool:
    days = set(window.days)
    now = local.time().replace(tzinfo=None)
    today = _DAYS[local.weekday()]
    start, end = window.start, window.end
    if start == end:  # the whole day
        return today in days
    if start < end:
        return today in days and start <= now < end
    # crosses midnight: the evening part belongs to today, the morning part to yesterday
    yesterday = _DAYS[(local.weekday() - 1) % 7]
    return (today in days and now >= start) or (yesterday in days and now < end)


def is_active(schedule: Schedule, at: datetime, site_zone: str) -> bool:
    """Whether the condition ``schedule`` holds at the instant ``at`` (aware)."""
    local = at.astimezone(ZoneInfo(schedule.timezone or site_zone))
    holidays = frozenset(schedule.holidays)
    if local.date() in holidays:
        inside = schedule.holidays_inside
    else:
        inside = any(_in_window(w, local) for w in schedule.windows)
    return inside != schedule.outside


def describe(schedule: Schedule, at: datetime, site_zone: str) -> str:
    """The local time the schedule was judged at, for explanations."""
    zone = schedule.timezone or site_zone
    local = at.astimezone(ZoneInfo(zone))
    holiday = " (a holiday)" if local.date() in set(schedule.holidays) else ""
    return f"{_DAYS[local.weekday()].value} {local:%Y-%m-%d %H:%M} {zone}{holiday}"
