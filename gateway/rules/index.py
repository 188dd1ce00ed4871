"""Rules by kind, then by the equality tests their predicates need.

An event meets only the rules whose kind patterns could match it: the candidates for a kind are
worked out the first time that kind is seen and remembered (kinds are few, events many). Within
a kind, a rule whose ``where`` needs ``data.slot == 3`` (or ``zone == '7'``, any top-level
``name == constant``) is filed under that value, so an event looks up the rules for its own
``data.slot`` instead of evaluating a hundred predicates that will say no. The full predicate is
still evaluated on the rules found: the index only ever leaves out rules that cannot match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.rules.compiled import CompiledRule
from gateway.rules.expr import Scope, lookup


@dataclass
class _ByValue:
    read: Callable[[Scope], Any]
    rules: dict[Any, list[tuple[int, CompiledRule]]] = field(default_factory=dict)


@dataclass
class _KindEntry:
    everyone: tuple[CompiledRule, ...]
    """All candidates for the kind, in config order."""
    unguarded: list[tuple[int, CompiledRule]]
    by_guard: dict[tuple[str, tuple[str | int, ...]], _ByValue]


class KindIndex:
    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self.rules = [r for r in rules if r.rule.enabled]
        self._order = {id(r): i for i, r in enumerate(self.rules)}
        self._by_kind: dict[str, _KindEntry] = {}

    def candidates(self, kind: str) -> tuple[CompiledRule, ...]:
        """The enabled rules whose ``when.kind`` matches ``kind``, in config order."""
        return self._entry(kind).everyone

    def narrowed(self, kind: str, scope: Scope) -> list[CompiledRule]:
        """The candidates for ``kind`` that the event's own values (``scope``) do not already
        rule out by an equality test, in config order."""
        entry = self._entry(kind)
        if not entry.by_guard:
            return list(entry.everyone)
        found = list(entry.unguarded)
        for table in entry.by_guard.values():
            try:
                hits = table.rules.get(table.read(scope))
            except TypeError:  # a list or a dict: equal to no constant
                continue
            if hits:
                found.extend(hits)
        if len(entry.by_guard) > 1 or entry.unguarded:
            found.sort(key=lambda pair: pair[0])
        return [rule for _, rule in found]

    def _entry(self, kind: str) -> _KindEntry:
        entry = self._by_kind.get(kind)
        if entry is not None:
            return entry
        everyone = tuple(r for r in self.rules if r.matches_kind(kind))
        unguarded: list[tuple[int, CompiledRule]] = []
        by_guard: dict[tuple[str, tuple[str | int, ...]], _ByValue] = {}
        for rule in everyone:
            order = self._order[id(rule)]
            if not rule.guards:
                unguarded.append((order, rule))
                continue
            guard = rule.guards[0]
            key = (guard.root, guard.path)
            table = by_guard.get(key)
            if table is None:
                table = by_guard[key] = _ByValue(lookup(guard.root, guard.path))
            table.rules.setdefault(guard.value, []).append((order, rule))
        entry = _KindEntry(everyone, unguarded, by_guard)
        if len(self._by_kind) < 10_000:  # kinds are few; never grow without bound
            self._by_kind[kind] = entry
        return entry
