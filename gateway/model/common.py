"""Field types shared by every canonical record."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

SCHEMA_VERSION = 1
"""Version of the canonical record schemas; stored on every record so data can be migrated."""


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC; a naive datetime is rejected."""


def _known_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Asia/Shanghai')"
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
"""An IANA time zone name that this machine's zone database knows."""

JsonDict = dict[str, Any]

ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
ActionStr = Annotated[str, Field(pattern=ACTION_PATTERN, max_length=100)]
"""A command action such as ``camera.goto_preset``: dotted lower-case words."""


def utcnow() -> datetime:
    return datetime.now(UTC)
