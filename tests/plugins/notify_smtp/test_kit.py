"""The e-mail notifier passes the plugin kit (its exercise serves SMTP with aiosmtpd)."""

from __future__ import annotations

from typing import Any

from plugins.notify_smtp.plugin import SmtpNotifier


async def test_passes_the_conformance_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(SmtpNotifier)
    assert report.ok, report.render()
    assert report.get("lifecycle.start").status.value == "pass"
    assert report.get("events.sources").status.value == "pass"
