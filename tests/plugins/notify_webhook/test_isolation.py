"""A notifier runs out of process like any plugin: its cursor, results and finished-ahead
record travel over the host link."""

from __future__ import annotations

from pathlib import Path

from plugins.notify_webhook.plugin import WebhookNotifier
from plugins.notify_webhook.receiver import HttpReceiver
from tests.plugins.notify_webhook.test_delivery import SECRET, hook_config
from tests.sdk_notifier.helpers import ask, gateway_for, journaled_results, running, until


async def test_an_isolated_notifier_delivers_and_journals_one_result_per_request(
    tmp_path: Path,
) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    receiver.fail_next(1, 503)
    config = hook_config(receiver.url)
    try:
        gw = gateway_for(tmp_path, WebhookNotifier, config, isolation="process")
        async with running(gw):
            events = [await ask(gw, subject=f"isolated {i}") for i in range(3)]
            await until(lambda: len(journaled_results(gw)) == 3, "three results")
            results = {r.request: r for r in journaled_results(gw)}
        assert set(results) == {e.id for e in events}
        assert all(r.status == "delivered" for r in results.values())
        assert sorted(r.attempts for r in results.values()) == [1, 1, 2]
        assert len(receiver.requests) == 4
    finally:
        await receiver.close()
