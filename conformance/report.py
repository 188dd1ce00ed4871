"""Check results and the report: one line per check for people, one JSON document for tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "n/a"
    """The plugin has nothing this check could look at (say, no connection to drop)."""


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    plugin: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status is not Status.FAIL for c in self.checks)

    def add(self, name: str, passed: bool, detail: str = "", **figures: Any) -> CheckResult:
        result = CheckResult(name, Status.PASS if passed else Status.FAIL, detail, figures)
        self.checks.append(result)
        return result

    def not_applicable(self, name: str, detail: str) -> None:
        self.checks.append(CheckResult(name, Status.NOT_APPLICABLE, detail))

    def get(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status is Status.FAIL]

    def render(self) -> str:
        marks = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.NOT_APPLICABLE: "n/a "}
        width = max((len(c.name) for c in self.checks), default=10)
        lines = [f"conformance of plugin {self.plugin}"]
        for c in self.checks:
            figures = " ".join(f"{k}={v}" for k, v in c.figures.items())
            text = "; ".join(part for part in (c.detail, figures) if part)
            lines.append(f"  {marks[c.status]} {c.name:<{width}}  {text}".rstrip())
        verdict = "PASSED" if self.ok else f"FAILED ({len(self.failed())} check(s))"
        lines.append(f"result: {verdict}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "ok": self.ok,
            "checks": [
                {"name": c.name, "status": c.status.value, "detail": c.detail, **c.figures}
                for c in self.checks
            ],
        }
