"""Reading incidents and their records back from a running gateway."""

from __future__ import annotations

from typing import Any

from gateway.host import Gateway
from gateway.incidents.model import Incident
from gateway.journal import Filter
from tests.rules.helpers import until


def records(gw: Gateway, kind: str) -> list[Any]:
    """The events of ``kind`` (prefix), in journal order."""
    return [r.event for r in gw.journal.reader.query(Filter.build(kinds=[kind]), limit=10_000)]


async def caught_up(gw: Gateway) -> None:
    """Until the tracker has judged everything journaled so far."""
    await until(
        lambda: gw.incidents.applied_seq >= gw.journal.committed_seq, "the tracker caught up"
    )


async def only_incident(gw: Gateway) -> Incident:
    await caught_up(gw)
    chosen = list(gw.incidents.incidents.values())
    assert len(chosen) == 1, chosen
    return chosen[0]
