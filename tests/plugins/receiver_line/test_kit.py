"""The plugin through the conformance kit (``anfang conformance receiver_line``), driven with
the class itself until the entry point is installed."""

from __future__ import annotations

from conformance.report import Status
from conformance.runner import check_plugin
from plugins.receiver_line.plugin import ReceiverLinePlugin


async def test_the_plugin_passes_the_kit() -> None:
    report = await check_plugin(ReceiverLinePlugin, fuzz_examples=300)
    assert report.ok, report.render()
    status = {c.name: c.status for c in report.checks}
    assert status["codec.receiver-line.vectors"] is Status.PASS
    assert status["events.schema"] is Status.PASS and status["lifecycle.no_faults"] is Status.PASS
