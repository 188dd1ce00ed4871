"""Retention: records past their age lose their payload but keep seq and hashes (tombstones).

The chain still verifies after pruning because each link covers the content *hash*, which a
tombstone keeps. Periods are set per kind prefix (longest prefix wins) and per record type;
access-control records are kept at least 180 days (GB 50348-2018 §6.4.7 note).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

DAY_US = 86_400 * 1_000_000
ACCESS_MINIMUM_DAYS = 180
ACCESS_PREFIXES = ("access", "door")


class RetentionPolicy(BaseModel):
    """``kinds`` maps event-kind prefixes to days; ``types`` maps command/result/audit to days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_days: int = Field(default=180, ge=1)
    kinds: dict[str, int] = Field(default_factory=dict)
    types: dict[str, int] = Field(default_factory=dict)

    @field_validator("kinds")
    @classmethod
    def _access_minimum(cls, kinds: dict[str, int]) -> dict[str, int]:
        for prefix, days in kinds.items():
            if days < 1:
                raise ValueError(f"{prefix}: retention must be at least 1 day")
            root = prefix.split(".")[0]
            if root in ACCESS_PREFIXES and days < ACCESS_MINIMUM_DAYS:
                raise ValueError(
                    f"{prefix}: access-control records must be kept at least "
                    f"{ACCESS_MINIMUM_DAYS} days (GB 50348-2018 §6.4.7), got {days}"
                )
        return kinds

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: dict[str, int]) -> dict[str, int]:
        for name, days in types.items():
            if name not in ("event", "command", "result", "audit"):
                raise ValueError(f"{name}: record type must be event, command, result or audit")
            if days < 1:
                raise ValueError(f"{name}: retention must be at least 1 day")
        return types

    def days_for(self, rtype: str, kind: str) -> int:
        if rtype != "event":
            return self.types.get(rtype, self.default_days)
        best, best_len = self.types.get("event", self.default_days), -1
        for prefix, days in self.kinds.items():
            if (kind == prefix or kind.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = days, len(prefix)
        if kind.split(".")[0] in ACCESS_PREFIXES:  # whatever the default or type fallback says
            best = max(best, ACCESS_MINIMUM_DAYS)
        return best

    @property
    def shortest_days(self) -> int:
        return min([self.default_days, *self.kinds.values(), *self.types.values()])


@dataclass
class PruneReport:
    pruned: int = 0
    examined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: PruneReport) -> None:
        self.pruned += other.pruned
        self.examined += other.examined
        for kind, n in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n


PRUNE_BATCH = 5000


def prune_batch(
    conn: sqlite3.Connection, policy: RetentionPolicy, now_us: int, after: int
) -> tuple[int | None, PruneReport]:
    """Tombstone one batch of expired records after seq ``after``: the next ``after`` (None
    when done) and what this batch did (a report of its own: it may run in another process)."""
    report = PruneReport()
    return _prune_batch(conn, policy, now_us, after, report), report


def _prune_batch(
    conn: sqlite3.Connection, policy: RetentionPolicy, now_us: int, after: int, report: PruneReport
) -> int | None:
    horizon = now_us - policy.shortest_days * DAY_US
    rows = conn.execute(
        "SELECT seq, rtype, kind, ts_us FROM records WHERE ts_us < ? AND seq > ? "
        "AND payload IS NOT NULL ORDER BY seq LIMIT ?",
        (horizon, after, PRUNE_BATCH),
    ).fetchall()
    if not rows:
        return None
    expired = []
    for seq, rtype, kind, ts_us in rows:
        report.examined += 1
        if ts_us < now_us - policy.days_for(rtype, kind) * DAY_US:
            expired.append((seq,))
            report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
    if expired:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("UPDATE records SET payload = NULL WHERE seq = ?", expired)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        report.pruned += len(expired)
    return int(rows[-1][0])
