"""A request whose data is not a NotifyRequest gets a failed result that says why; nothing
a request says stops the notifier."""

from __future__ import annotations

from pathlib import Path

from tests.sdk_notifier.helpers import (
    FAST_RETRIES,
    ask,
    gateway_for,
    journaled_results,
    notifier,
    request_event,
    result_of,
    running,
)
from tests.sdk_notifier.scripted import ScriptedNotifier

CONFIG = {"default_to": ["duty"], **FAST_RETRIES}


async def test_an_invalid_request_gets_a_failed_result_naming_the_key(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        bad = request_event({"channel": "ops", "to": "not-a-list", "colour": "red"})
        await gw.journal.append(bad)
        result = await result_of(gw, bad)
        assert result.status == "failed"
        assert result.detail.startswith("invalid notify.request: ")
        assert "to: Input should be a valid list" in result.detail
        assert "subject: Field required" in result.detail
        assert "colour: Extra inputs are not permitted" in result.detail
        assert ScriptedNotifier.attempts == []
        assert result.attempts == 0  # refused unsent
        plugin = notifier(gw)
        assert plugin.ctx.counters["requests_invalid"] == 1
        assert plugin.health()["last_error"] == result.detail
        good = await result_of(gw, await ask(gw, subject="ok after the bad one"))
        assert good.status == "delivered"
        assert gw.runners["ops"].status.restarts == 0


async def test_a_request_without_a_channel_is_counted_and_answered_by_nobody(
    tmp_path: Path,
) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        await gw.journal.append(request_event({"subject": "whose is this?"}))
        await gw.journal.append(request_event({"channel": 7, "subject": "a number"}))
        follow = await ask(gw, subject="ok")
        await result_of(gw, follow)
        assert [r.request for r in journaled_results(gw)] == [follow.id]
        assert notifier(gw).ctx.counters["requests_without_channel"] == 2
