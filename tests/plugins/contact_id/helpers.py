"""Building Contact ID frames and reading the repository's conformance copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gateway.model.event import Event
from gateway.sdk.codec import DecodeContext
from plugins.contact_id.checksum import checksum_digit
from plugins.contact_id.hooks import CODEC
from tests.conftest import REPO

CONFORMANCE = REPO / "conformance"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def load(relative: str) -> Any:
    """A conformance file from the repository's copy (never ../shared at test time)."""
    return json.loads((CONFORMANCE / relative).read_text(encoding="utf-8"))


def vectors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = load("vectors/contact_id.json")
    return data


def frame(
    account: str = "1234",
    qualifier: str = "1",
    event: str = "130",
    group: str = "01",
    ccc: str = "015",
    message_type: str = "18",
) -> str:
    """A 16-digit message with its checksum computed."""
    body = f"{account}{message_type}{qualifier}{event}{group}{ccc}"
    return body + checksum_digit(body)


def ctx(site: str = "site", **kwargs: Any) -> DecodeContext:
    return DecodeContext(site=site, now=NOW, **kwargs)


def event_of(text: str, context: DecodeContext | None = None) -> Event:
    """The one event a frame decodes to."""
    decoded = CODEC.decode(text.encode("ascii"), context or ctx())
    assert len(decoded.events) == 1
    return decoded.events[0]


def vector_id(vector: dict[str, Any]) -> str:
    value = vector["input"]
    return str(value["hex"] if isinstance(value, dict) else value).strip()
