"""A gateway with one notifier instance in this process, requests in, results out of its journal.

Shared by the notifier base's tests and the notifier plugins' tests: a real gateway on a real
journal in a temporary directory, the plugin class registered the way tests register plugins
that have no entry point yet (``discover(extra=[...])``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.model.notify import REQUEST_KIND, RESULT_KIND, NotifyResult
from gateway.sdk.discovery import discover
from gateway.sdk.notifier import NotifierPlugin

WAIT_S = 60.0
"""Generous: the machine may be slow and loaded (never a timing assertion)."""
FAST_RETRIES = {"backoff_s": 0.02, "backoff_max_s": 0.1}
"""Short backoffs so retry tests take milliseconds, not the production seconds."""


def gateway_for(
    tmp_path: Path,
    cls: type[NotifierPlugin[Any]],
    config: dict[str, Any],
    instance: str = "ops",
    isolation: str = "inline",
) -> Gateway:
    entry = {"id": instance, "plugin": cls.name, "config": config, "isolation": isolation}
    path = tmp_path / "anfang.yaml"
    path.write_text(f"site: {{id: hq}}\nplugins:\n  - {json.dumps(entry)}\n")
    installed = discover(extra=[cls])
    loaded = load_config(path, installed.classes)
    return Gateway(loaded, installed, data_dir=tmp_path / "data", backoff_initial_s=0.05)


@contextlib.asynccontextmanager
async def running(gw: Gateway) -> AsyncIterator[Gateway]:
    await gw.start()
    try:
        for _ in range(int(WAIT_S / 0.02)):
            if all(r.status.state is InstanceState.RUNNING for r in gw.runners.values()):
                break
            await asyncio.sleep(0.02)
        yield gw
    finally:
        await gw.stop()


def notifier(gw: Gateway, instance: str = "ops") -> NotifierPlugin[Any]:
    plugin = gw.runners[instance].plugin
    assert isinstance(plugin, NotifierPlugin)
    return plugin


def request_event(
    data: dict[str, Any] | None = None, *, received_at: datetime | None = None, **fields: Any
) -> Event:
    """A ``notify.request`` as the rules engine or the incident tracker would journal it."""
    payload = data if data is not None else {"channel": "ops", "subject": "test", **fields}
    extra = {} if received_at is None else {"received_at": received_at, "occurred_at": received_at}
    return Event(
        kind=REQUEST_KIND,
        phase=Phase.MOMENTARY,
        priority=4,
        source="hq/incidents",
        text="notify",
        data=payload,
        **extra,
    )


async def ask(gw: Gateway, **fields: Any) -> Event:
    """Journal a request for the channel ``ops`` (unless ``channel`` says otherwise)."""
    event = request_event(**fields)
    await gw.journal.append(event)
    return event


async def result_of(gw: Gateway, event: Event, instance: str = "ops") -> NotifyResult:
    async with asyncio.timeout(WAIT_S):
        return await notifier(gw, instance).result_for(event.id)


def journaled_results(gw: Gateway) -> list[NotifyResult]:
    """Every ``notify.result`` in the journal, in order."""
    records = gw.journal.reader.query(Filter.build(kinds=[RESULT_KIND]), limit=10_000)
    return [NotifyResult.model_validate(r.event.data) for r in records]


def cursor_position(gw: Gateway, instance: str = "ops") -> int:
    consumer = notifier(gw, instance)._consumer
    assert consumer is not None
    return consumer.committed


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a condition the test cannot be woken for (a counter, a peer's state)."""
    for _ in range(int(WAIT_S / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {WAIT_S:.0f} s: {what}")
