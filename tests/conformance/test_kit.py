"""The kit catches each planted fault by name, and passes the plugins that have none."""

from __future__ import annotations

import pytest

from conformance import Status, check_plugin
from tests.conformance.planted import PLANTED, Clean


async def test_a_clean_plugin_passes_every_check() -> None:
    report = await check_plugin(Clean)
    assert report.ok, report.render()
    assert report.get("loop.never_blocks").figures["max_lag_ms"] < 200
    assert report.get("events.schema").figures["events"] > 0  # how many: machine load


@pytest.mark.parametrize("plugin", PLANTED, ids=[p.name for p in PLANTED])
async def test_each_planted_fault_is_named(plugin: type[Clean]) -> None:
    report = await check_plugin(plugin, fuzz_examples=300)
    assert report.failed() == [plugin.fault], report.render()
    assert report.get(plugin.fault).detail, "a failure says what was wrong"


async def test_details_point_at_the_culprit() -> None:
    blocked = await check_plugin(PLANTED[0])
    assert "report" in blocked.get("loop.never_blocks").detail  # the culprit function
    leaky = await check_plugin(PLANTED[1])
    assert "Event.wait" in leaky.get("leaks.tasks").detail


async def test_the_first_party_demo_plugin_passes() -> None:
    report = await check_plugin("demo")
    assert report.ok, report.render()
    assert report.get("commands.answer").status is Status.PASS
