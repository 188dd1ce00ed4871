"""A settable clock and a real state database for the auth tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

STRONG = "kq8-Vz3m-Pw"
"""A password every rule accepts."""

OTHER_STRONG = "correct horse battery staple 7"


class Clock:
    """A clock the test moves by hand: lockout windows pass in no time."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)
