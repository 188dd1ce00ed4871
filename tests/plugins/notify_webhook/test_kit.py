"""The webhook notifier passes the plugin kit (its exercise serves the signed endpoint)."""

from __future__ import annotations

from typing import Any

from plugins.notify_webhook.plugin import WebhookNotifier


async def test_passes_the_conformance_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(WebhookNotifier)
    assert report.ok, report.render()
    assert report.get("leaks.sockets").status.value == "pass", "the HTTP client is closed"
