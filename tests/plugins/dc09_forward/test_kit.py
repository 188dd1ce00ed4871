"""The forwarder passes the plugin kit (its exercise starts a second Anfang as the receiver)."""

from __future__ import annotations

from typing import Any

from plugins.dc09_forward.plugin import Dc09ForwardPlugin


async def test_passes_the_conformance_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(Dc09ForwardPlugin)
    assert report.ok, report.render()
    assert report.get("transport.drop").status.value == "pass", "a real connection was cut"
    assert report.get("leaks.sockets").status.value == "pass"
