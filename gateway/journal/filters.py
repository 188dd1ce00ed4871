"""Record filters: which records a consumer or a query wants.

The same filter runs in memory (live consumers read the in-memory tail) and as SQL (lagging
consumers and queries read the database), so both paths must agree; a test checks they do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.journal.records import JournalRecord, RecordType


def is_kind_glob(pattern: str) -> bool:
    """``*``, ``?`` or ``[`` make a kind pattern a shell glob; otherwise it is a prefix of dotted
    words. The one rule for filters, rules and incident classes."""
    return "*" in pattern or "?" in pattern or "[" in pattern


def kind_matches(pattern: str, kind: str) -> bool:
    """``trouble`` matches ``trouble`` and ``trouble.ac_loss`` but not ``troubles``; a glob is
    matched as a glob."""
    if is_kind_glob(pattern):
        return fnmatch.fnmatchcase(kind, pattern)
    return kind == pattern or kind.startswith(pattern + ".")


@dataclass(frozen=True, slots=True)
class Filter:
    """Matches records by type, kind prefix or glob, source glob, phase and priority.

    ``kinds=("trouble",)`` matches ``trouble`` and ``trouble.ac_loss`` but not ``troubles``;
    ``sources=("hq/*",)`` is a shell glob over addresses; ``max_priority=2`` keeps priorities
    1 and 2. Empty fields match everything.
    """

    types: frozenset[RecordType] = field(default_factory=lambda: frozenset({RecordType.EVENT}))
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    phases: frozenset[str] = frozenset()
    max_priority: int | None = None
    # Derived once: every live consumer runs ``matches`` on every record, so the kind test is
    # a set lookup and one C-level ``startswith`` instead of a generator over patterns.
    _kind_exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _kind_prefixes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _kind_globs: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)
    """A filter keys the journal's shared tail answers and commit waiters, looked up several
    times per commit: hashed once, not field by field on every lookup."""

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Filter], tuple[Any, ...]]:
        # str hashes differ between processes: never carry _hash along, rebuild it
        return (Filter, (self.types, self.kinds, self.sources, self.phases, self.max_priority))

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_hash",
            hash((self.types, self.kinds, self.sources, self.phases, self.max_priority)),
        )
        plain = [p for p in self.kinds if not is_kind_glob(p)]
        globs = tuple(p for p in self.kinds if is_kind_glob(p))
        object.__setattr__(self, "_kind_exact", frozenset(plain))
        object.__setattr__(self, "_kind_prefixes", tuple(p + "." for p in plain))
        object.__setattr__(self, "_kind_globs", globs)

    @classmethod
    def build(
        cls,
        *,
        types: Iterable[str] | None = None,
        kinds: Iterable[str] = (),
        sources: Iterable[str] = (),
        phases: Iterable[str] = (),
        max_priority: int | None = None,
    ) -> Filter:
        return cls(
            frozenset(RecordType(t) for t in types)
            if types is not None
            else frozenset({RecordType.EVENT}),
            tuple(kinds),
            tuple(sources),
            frozenset(phases),
            max_priority,
        )

    @classmethod
    def everything(cls) -> Filter:
        return cls(frozenset(RecordType))

    def matches(self, record: JournalRecord) -> bool:
        if self.types and record.rtype not in self.types:
            return False
        if self.kinds:
            kind = record.kind
            if not (
                kind in self._kind_exact
                or kind.startswith(self._kind_prefixes)
                or any(fnmatch.fnmatchcase(kind, p) for p in self._kind_globs)
            ):
                return False
        if self.sources and not any(fnmatch.fnmatchcase(record.source, p) for p in self.sources):
            return False
        if self.phases and record.phase not in self.phases:
            return False
        return not (
            self.max_priority is not None
            and record.rtype is RecordType.EVENT
            and record.priority > self.max_priority
        )

    @property
    def sql_exact(self) -> bool:
        """False when a pattern uses a character class (``[...]``): fnmatch and SQLite's GLOB
        read classes differently (``[!x]`` vs ``[^x]``, a literal ``^``), so such patterns are
        left out of the SQL, which then selects a superset that :meth:`matches` narrows."""
        return not any("[" in p for p in (*self.kinds, *self.sources))

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE fragment (starting with ' AND ') and its parameters.

        Exact when :attr:`sql_exact`; otherwise a superset of the matching records.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if self.types and len(self.types) < len(RecordType):
            clauses.append(f"rtype IN ({','.join('?' * len(self.types))})")
            params.extend(sorted(t.value for t in self.types))
        if self.kinds and not any("[" in p for p in self.kinds):
            parts = []
            for p in self.kinds:
                if is_kind_glob(p):
                    parts.append("kind GLOB ?")
                    params.append(p)
                else:
                    parts.append("(kind = ? OR substr(kind, 1, ?) = ?)")
                    params.extend([p, len(p) + 1, p + "."])
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.sources and not any("[" in p for p in self.sources):
            clauses.append("(" + " OR ".join("source GLOB ?" for _ in self.sources) + ")")
            params.extend(self.sources)
        if self.phases:
            clauses.append(f"phase IN ({','.join('?' * len(self.phases))})")
            params.extend(sorted(self.phases))
        if self.max_priority is not None:
            clauses.append("(rtype != 'event' OR priority <= ?)")
            params.append(self.max_priority)
        return "".join(" AND " + c for c in clauses), params
