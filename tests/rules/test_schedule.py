"""Schedules: weekly windows in the site's zone, across midnight and DST, and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway.rules.model import Schedule, Weekday, Window
from gateway.rules.schedule import is_active

BERLIN = ZoneInfo("Europe/Berlin")
NIGHTS = Schedule(
    windows=[
        Window(
            days=[Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI],
            start=time(18),
            end=time(8),
        )
    ],
    holidays=[date(2026, 10, 1)],
)


def local(y: int, mo: int, d: int, h: int, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN, fold=fold)


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (local(2026, 3, 2, 17, 59), False),  # Monday before the window
        (local(2026, 3, 2, 18, 0), True),  # Monday evening
        (local(2026, 3, 3, 7, 59), True),  # Tuesday early: Monday's window, past midnight
        (local(2026, 3, 3, 8, 0), False),
        (local(2026, 3, 2, 7, 0), False),  # Monday early: Sunday has no window
        (local(2026, 3, 7, 3, 0), True),  # Saturday early: Friday's window
        (local(2026, 3, 7, 20, 0), False),  # Saturday evening: no window
        (local(2026, 10, 1, 12, 0), True),  # a holiday counts as inside all day
    ],
)
def test_windows_across_midnight_and_holidays(at: datetime, inside: bool) -> None:
    assert is_active(NIGHTS, at.astimezone(UTC), "Europe/Berlin") is inside


def test_the_site_zone_decides_the_local_time() -> None:
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday 13:00 Berlin, 20:00 Shanghai
    assert not is_active(NIGHTS, at, "Europe/Berlin")
    assert is_active(NIGHTS, at, "Asia/Shanghai")
    own = NIGHTS.model_copy(update={"timezone": "Europe/Berlin"})
    assert not is_active(own, at, "Asia/Shanghai"), "the schedule's own zone wins"


def test_wall_clock_windows_across_dst_changes() -> None:
    # 2026-03-29 02:00 -> 03:00 in Berlin (spring forward); 2026-10-25 03:00 -> 02:00 (back)
    early = Schedule(windows=[Window(start=time(1), end=time(4))])
    spring_in = [datetime(2026, 3, 29, h, 30, tzinfo=UTC) for h in range(-1 + 1, 4)]
    # UTC 00:30 = 01:30 CET (in), 01:30 = 03:30 CEST (in), 02:30 = 04:30 CEST (out)
    assert [is_active(early, t, "Europe/Berlin") for t in spring_in] == [True, True, False, False]
    autumn = [datetime(2026, 10, 24, 23, 30, tzinfo=UTC)] + [
        datetime(2026, 10, 25, h, 30, tzinfo=UTC) for h in range(0, 4)
    ]
    # 01:30 CEST, 02:30 CEST, 02:30 CET (the repeated hour), 03:30 CET, 04:30 CET
    assert [is_active(early, t, "Europe/Berlin") for t in autumn] == [True, True, True, True, False]
    night = Schedule(windows=[Window(days=[Weekday.SAT], start=time(22), end=time(6))])
    # the Saturday night the clocks go back lasts 9 hours of real time, all of it inside
    hours = [datetime(2026, 10, 24, 20, 0, tzinfo=UTC).timestamp() + 1800 * i for i in range(20)]
    inside = [is_active(night, datetime.fromtimestamp(t, UTC), "Europe/Berlin") for t in hours]
    assert sum(inside) == 18  # 9 h in half hours


def test_outside_and_holidays_outside() -> None:
    office = Schedule(
        windows=[Window(days=[Weekday.MON], start=time(9), end=time(17))],
        holidays=[date(2026, 3, 2)],
        holidays_inside=False,
        outside=True,
    )
    holiday_noon = local(2026, 3, 2, 12).astimezone(UTC)
    assert is_active(office, holiday_noon, "Europe/Berlin"), "holiday: not office hours"
    office_day = office.model_copy(update={"holidays": []})
    assert not is_active(office_day, holiday_noon, "Europe/Berlin")


def test_a_window_with_equal_start_and_end_is_the_whole_day() -> None:
    sundays = Schedule(windows=[Window(days=[Weekday.SUN])])
    assert is_active(sundays, local(2026, 3, 1, 23, 59).astimezone(UTC), "Europe/Berlin")
    assert not is_active(sundays, local(2026, 3, 2, 0, 0).astimezone(UTC), "Europe/Berlin")
