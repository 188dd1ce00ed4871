"""Rules by kind: an event meets only the rules whose kind patterns could match it.

The candidates for a kind are worked out the first time that kind is seen and remembered; the
number of kinds is small (the kind table) while events are many, so each event costs one
dictionary lookup however many rules are loaded.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.rules.compiled import CompiledRule


class KindIndex:
    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self.rules = [r for r in rules if r.rule.enabled]
        self._by_kind: dict[str, tuple[CompiledRule, ...]] = {}

    def candidates(self, kind: str) -> tuple[CompiledRule, ...]:
        """The enabled rules whose ``when.kind`` matches ``kind``, in config order."""
        found = self._by_kind.get(kind)
        if found is None:
            found = tuple(r for r in self.rules if r.matches_kind(kind))
            if len(self._by_kind) < 10_000:  # kinds are few; never grow without bound
                self._by_kind[kind] = found
        return found
