"""DC-09 timestamps: the ``_HH:MM:SS,MM-DD-YYYY`` text and the receiver's acceptance window.

"timestamp: ``_HH:MM:SS,MM-DD-YYYY``, UTC. Optional when unencrypted; required when encrypted."
Some Egardia/Woonveilig panels send local time (pysiaalarm PR #27): read with ``tz``.

Window: "accept if receiver − 40 s ≤ t_msg ≤ receiver + 20 s" (pysiaalarm
``allowed_timeband=(40, 20)``; AjaxSiaCodec: −41 s reject, +21 s reject, −39 s accept). DC-09
applies it to encrypted messages; a failure is answered with NAK carrying the receiver's time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from plugins.sia_dc09.dc09.errors import Dc09Error, Reason

EARLY = timedelta(seconds=40)
"""How far a message's time may lie before the receiver's clock."""
LATE = timedelta(seconds=20)
"""How far a message's time may lie after the receiver's clock."""

_TIMESTAMP = re.compile(r"_(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})", re.ASCII)


def format_timestamp(moment: datetime) -> str:
    """``_HH:MM:SS,MM-DD-YYYY`` in UTC for an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Dc09Error(Reason.TIMESTAMP, "a DC-09 timestamp needs a timezone-aware datetime")
    t = moment.astimezone(UTC)
    return f"_{t.hour:02d}:{t.minute:02d}:{t.second:02d},{t.month:02d}-{t.day:02d}-{t.year:04d}"


def parse_timestamp(text: str, tz: tzinfo = UTC) -> datetime:
    """The UTC moment of ``_HH:MM:SS,MM-DD-YYYY`` read in ``tz`` (UTC unless a panel is known
    to send local time; pass a ``zoneinfo.ZoneInfo``, not a pytz zone)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise Dc09Error(Reason.TIMESTAMP, f"timestamp {text[:32]!r} is not _HH:MM:SS,MM-DD-YYYY")
    hour, minute, second, month, day, year = map(int, match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise Dc09Error(Reason.TIMESTAMP, f"timestamp {text!r} is not a real time: {exc}") from None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # year 1 or 9999 shifted out of range
        raise Dc09Error(Reason.TIMESTAMP, f"timestamp {text!r} is out of range: {exc}") from None


def within_window(
    moment: datetime, now: datetime, *, early: timedelta = EARLY, late: timedelta = LATE
) -> bool:
    """True when ``now - early <= moment <= now + late``."""
    return now - early <= moment <= now + late


def check_window(
    moment: datetime | None,
    now: datetime,
    *,
    required: bool = True,
    early: timedelta = EARLY,
    late: timedelta = LATE,
) -> None:
    """Raise ``Dc09Error(TIMESTAMP)`` when ``moment`` is outside the window, or missing while
    ``required`` (an encrypted message must carry one)."""
    if moment is None:
        if required:
            raise Dc09Error(Reason.TIMESTAMP, "an encrypted message must carry a timestamp")
        return
    if not within_window(moment, now, early=early, late=late):
        skew = (moment - now).total_seconds()
        raise Dc09Error(
            Reason.TIMESTAMP,
            f"message time is {skew:+.0f} s from the receiver's clock "
            f"(accepted: -{early.total_seconds():.0f} s to +{late.total_seconds():.0f} s)",
        )
