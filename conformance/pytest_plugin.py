"""The kit inside a plugin's own test suite (loaded by pytest through the ``pytest11`` entry).

    async def test_acme_passes_the_kit(anfang_conformance):
        report = await anfang_conformance(AcmePlugin)
        assert report.ok, report.render()

``anfang_conformance`` is :func:`conformance.check_plugin`; the report says which check failed
and why, so a failing test reads like ``anfang conformance`` output.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from conformance.report import Report
from conformance.runner import check_plugin


@pytest.fixture
def anfang_conformance() -> Callable[..., Awaitable[Report]]:
    return check_plugin


def pytest_report_header(config: Any) -> str:
    return "anfang conformance kit: fixture anfang_conformance"
