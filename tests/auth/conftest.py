"""Fixtures: a real ``state.sqlite3`` in a temporary directory, and an auth store on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.auth import AuthStore
from gateway.registry.statedb import StateDB
from tests.auth.helpers import Clock


@pytest.fixture
def state(data_dir: Path) -> Iterator[StateDB]:
    db = StateDB(data_dir / "state.sqlite3")
    yield db
    db.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(state: StateDB, clock: Clock) -> AuthStore:
    return AuthStore(state, clock)
