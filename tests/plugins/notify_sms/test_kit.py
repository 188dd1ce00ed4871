"""The SMS notifier passes the plugin kit (its exercise serves a JSON SMS API)."""

from __future__ import annotations

from typing import Any

from plugins.notify_sms.plugin import SmsNotifier


async def test_passes_the_conformance_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(SmsNotifier)
    assert report.ok, report.render()
    assert report.get("leaks.sockets").status.value == "pass", "the HTTP client is closed"
