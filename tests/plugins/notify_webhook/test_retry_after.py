"""Reading ``Retry-After`` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from plugins.notify_webhook.http import Answer, retry_after, verdict

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_delay_seconds() -> None:
    assert retry_after("120", NOW) == 120.0
    assert retry_after(" 0 ", NOW) == 0.0


def test_an_http_date_counts_from_now_and_never_below_zero() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert later.endswith("GMT")
    assert retry_after(later, NOW) == pytest.approx(30.0)
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert retry_after(earlier, NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Fri, 99 Foo 2026"])
def test_what_cannot_be_read_is_no_wait(value: str | None) -> None:
    assert retry_after(value, NOW) is None


def test_only_a_transient_answer_carries_the_wait() -> None:
    busy = verdict(Answer(503, "busy", 7.0))
    assert busy is not None and not busy.permanent and busy.retry_after_s == 7.0
    wrong = verdict(Answer(400, "bad", 7.0))
    assert wrong is not None and wrong.permanent and wrong.retry_after_s is None
    assert verdict(Answer(200, "ok", 7.0)) is None
