"""Which path a receiver is reached on, and when each path is due a NULL link test; no I/O.

Dual path as EN 50136's DP categories have it: events go over the primary while it answers;
``failover_after`` failed attempts in a row on the path in use switch to the other one; the
unused path keeps being tested with NULL messages — at ``link_test_s`` while it is healthy, at
``probe_s`` while it is failing — and ``failback_after`` answered probes in a row bring the
primary back. With both paths down the router alternates between them, so whichever returns
first is found. A NAK or DUH is an answer: the path works, whatever the receiver thought of
the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


@dataclass
class Health:
    failures: int = 0
    """Failed attempts in a row."""
    answered: int = 0
    """Answered attempts in a row."""
    last_attempt: float = float("-inf")
    """Monotonic time of the last attempt's start (event or link test)."""


@dataclass(frozen=True, slots=True)
class Switch:
    old: Role
    new: Role
    reason: str


class PathRouter:
    def __init__(
        self,
        roles: tuple[Role, ...],
        *,
        failover_after: int,
        failback_after: int,
        link_test_s: float,
        probe_s: float,
    ) -> None:
        if not roles or roles[0] is not Role.PRIMARY:
            raise ValueError("a receiver has a primary path, and maybe a backup")
        self.roles = roles
        self.active = Role.PRIMARY
        self.health = {role: Health() for role in roles}
        self.failover_after = failover_after
        self.failback_after = failback_after
        self.link_test_s = link_test_s
        self.probe_s = probe_s

    def attempt(self, role: Role, now: float) -> None:
        """Something is being sent on ``role`` (the idle time for link tests restarts)."""
        self.health[role].last_attempt = now

    def answered(self, role: Role) -> Switch | None:
        health = self.health[role]
        health.failures = 0
        health.answered += 1
        if (
            role is Role.PRIMARY
            and self.active is not Role.PRIMARY
            and health.answered >= self.failback_after
        ):
            return self._switch(Role.PRIMARY, f"primary answered {health.answered} probes")
        return None

    def failed(self, role: Role) -> Switch | None:
        health = self.health[role]
        health.answered = 0
        health.failures += 1
        if role is not self.active or len(self.roles) < 2:
            return None
        if health.failures % self.failover_after:
            return None
        other = next(r for r in self.roles if r is not role)
        return self._switch(other, f"{role} failed {health.failures} attempts in a row")

    def link_test_due(self, role: Role, now: float) -> bool:
        """A path idle for its interval gets a NULL: ``probe_s`` when it is failing and not in
        use (to see it return), else ``link_test_s``."""
        health = self.health[role]
        failing = health.failures > 0 or (role is Role.PRIMARY and self.active is not role)
        interval = self.probe_s if failing and role is not self.active else self.link_test_s
        return now - health.last_attempt >= interval

    def _switch(self, new: Role, reason: str) -> Switch:
        old, self.active = self.active, new
        return Switch(old, new, reason)
