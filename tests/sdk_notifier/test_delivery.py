"""The notifier base on a real gateway: one result per request, retries, permanent failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from gateway.model.notify import NotifyRequest
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


async def test_a_request_for_the_channel_is_delivered_and_its_result_journaled(
    tmp_path: Path,
) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        event = await ask(gw, subject="ok intrusion", to=["alice", "bob"], incident="inc-1")
        result = await result_of(gw, event)
        assert result.status == "delivered"
        assert result.attempts == 1
        assert result.request == event.id
        assert result.channel == "ops"
        assert result.to == ["alice", "bob"]
        assert result.detail == "sent to alice, bob"
        assert journaled_results(gw) == [result]
        assert notifier(gw).ctx.counters["delivered"] == 1


async def test_a_request_naming_nobody_goes_to_the_default_recipients(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        result = await result_of(gw, await ask(gw, subject="ok"))
        assert result.status == "delivered"
        assert result.to == ["duty"]


async def test_without_any_recipient_the_request_fails_without_an_attempt(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, dict(FAST_RETRIES))) as gw:
        result = await result_of(gw, await ask(gw, subject="ok"))
        assert result.status == "failed"
        assert "names no recipient" in result.detail
        assert ScriptedNotifier.attempts == []


async def test_other_channels_requests_are_left_to_their_own_notifier(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        other = await ask(gw, channel="sms-duty", subject="ok for sms")
        mine = await ask(gw, subject="ok for ops")
        await result_of(gw, mine)
        assert [a[0] for a in ScriptedNotifier.attempts] == [mine.id]
        assert [r.request for r in journaled_results(gw)] == [mine.id]
        assert other.id not in {r.request for r in notifier(gw).recent}


async def test_transient_failures_are_retried_until_delivered(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        event = await ask(gw, subject="transient-2 mail server busy")
        result = await result_of(gw, event)
        assert result.status == "delivered"
        assert result.attempts == 3
        assert [a[2] for a in ScriptedNotifier.attempts] == [1, 2, 3]
        counters = notifier(gw).ctx.counters
        assert counters["retries"] == 2
        assert counters["delivered"] == 1
        assert counters["failed"] == 0
        assert journaled_results(gw) == [result]


async def test_the_base_gives_up_after_the_configured_attempts(tmp_path: Path) -> None:
    config = {**CONFIG, "attempts": 3}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        result = await result_of(gw, await ask(gw, subject="transient-9 always busy"))
        assert result.status == "failed"
        assert result.attempts == 3
        assert result.detail.startswith("gave up after 3: busy (attempt 3)")
        assert len(ScriptedNotifier.attempts) == 3
        assert notifier(gw).ctx.counters["failed"] == 1


async def test_a_permanent_failure_is_not_retried(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        result = await result_of(gw, await ask(gw, subject="permanent"))
        assert result.status == "failed"
        assert result.attempts == 1
        assert result.detail == "permanent failure: 550 no such mailbox"
        assert len(ScriptedNotifier.attempts) == 1
        assert notifier(gw).ctx.counters["retries"] == 0


async def test_an_exception_from_deliver_is_a_transient_failure_not_a_crash(
    tmp_path: Path,
) -> None:
    config = {**CONFIG, "attempts": 2}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        result = await result_of(gw, await ask(gw, subject="bug"))
        assert result.status == "failed"
        assert result.attempts == 2
        assert "KeyError" in result.detail
        plugin = notifier(gw)
        assert plugin.ctx.counters["delivery_exceptions"] == 2
        after = await result_of(gw, await ask(gw, subject="ok still running"))
        assert after.status == "delivered"
        assert gw.runners["ops"].status.restarts == 0


async def test_an_attempt_that_never_answers_times_out_and_is_retried(tmp_path: Path) -> None:
    config = {**CONFIG, "attempts": 2, "timeout_s": 0.05}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        result = await result_of(gw, await ask(gw, subject="slow"))
        assert result.status == "failed"
        assert result.attempts == 2
        assert "no answer within timeout_s 0.05" in result.detail


async def test_an_old_request_is_not_sent_but_answered_as_expired(tmp_path: Path) -> None:
    config = {**CONFIG, "max_age_s": 3600}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        old = request_event(
            subject="ok from yesterday",
            received_at=gw.clock.now() - timedelta(hours=25),
        )
        await gw.journal.append(old)
        result = await result_of(gw, old)
        assert result.status == "failed"
        assert result.detail.startswith("not sent: expired")
        assert ScriptedNotifier.attempts == []
        assert notifier(gw).ctx.counters["expired"] == 1


async def test_health_reports_the_last_error_and_the_counters(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        plugin = notifier(gw)
        assert plugin.health()["last_error"] is None
        await result_of(gw, await ask(gw, subject="permanent"))
        await result_of(gw, await ask(gw, subject="ok"))
        health = plugin.health()
        assert health["last_error"] == "550 no such mailbox"
        assert health["last_error_at"] is not None
        assert health["last_delivered_at"] is not None
        assert (health["delivered"], health["failed"], health["pending"]) == (1, 1, 0)


async def test_notify_self_sends_through_the_journal(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        plugin = notifier(gw)
        result = await plugin.notify_self(NotifyRequest(channel="ops", subject="ok kit"))
        assert result.status == "delivered"
        assert journaled_results(gw) == [result]


async def test_many_requests_each_get_exactly_one_result(tmp_path: Path) -> None:
    config = {**CONFIG, "concurrency": 3}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        subjects = ["ok", "transient-1", "permanent", "ok", "transient-2"] * 8
        events = [await ask(gw, subject=s) for s in subjects]
        results = await asyncio.gather(*(result_of(gw, e) for e in events))
        journaled = journaled_results(gw)
        assert sorted(r.request for r in journaled) == sorted(e.id for e in events)
        assert [r.status for r in results].count("failed") == 8
