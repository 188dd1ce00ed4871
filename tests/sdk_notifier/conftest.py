from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sdk_notifier.scripted import ScriptedNotifier


@pytest.fixture(autouse=True)
def fresh_script() -> Iterator[None]:
    ScriptedNotifier.reset()
    yield
    ScriptedNotifier.reset()
