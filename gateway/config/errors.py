"""Config errors carry the key path (``plugins[2].config.port``) so an installer finds the line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """One or more problems in a config file; ``issues`` lists every one."""

    def __init__(self, source: str, issues: Sequence[ConfigIssue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.source}: {len(self.issues)} problem(s)"]
        lines.extend(f"  {issue}" for issue in self.issues)
        return "\n".join(lines)


def key_path(loc: Iterable[int | str], prefix: str = "") -> str:
    """``("plugins", 2, "config", "port")`` → ``plugins[2].config.port``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issues_from_validation(exc: ValidationError, prefix: str = "") -> list[ConfigIssue]:
    issues = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs for the allowed keys)"
        elif err["type"] == "missing":
            message = "required key is missing"
        issues.append(ConfigIssue(key_path(loc, prefix), message))
    return issues
