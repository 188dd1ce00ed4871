"""A stand-in for a module's structlog logger, for tests that check what is logged.

Where the real log goes depends on what the suite's earlier tests configured, so its output is
not a test's to read; a test swaps this in for the module's logger instead.
"""

from __future__ import annotations

from typing import Any


class RecordedLog:
    """Stands in for the module's structlog logger: which lines were logged (the suite's
    earlier tests decide where the real log goes, so its output is not the test's to read)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def bind(self, **_: object) -> RecordedLog:
        return self

    def __getattr__(self, level: str) -> Any:
        return lambda event, *args, **fields: self.lines.append((level, event))
