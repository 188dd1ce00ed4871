"""The Contact ID event-code table (``codes.json``): what each code means in the canonical model.

The table is data, reviewed like code: every code in the DC-05 list (as spandsp has it) with its
core kind, how its phase follows the qualifier, and a reason wherever the choice is not obvious
(a generic kind, a fixed phase, a priority that differs from the kind's default). Codes outside it
are not refused: panels ship vendor codes, and :mod:`plugins.contact_id.mapping` reports them as
``contact_id.unmapped`` with the raw code kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any, Literal

from gateway.model.kinds import Phase

CccIs = Literal["zone", "user"]


class PhaseRule(StrEnum):
    """How an event's phase is chosen for a code."""

    BY_QUALIFIER = "by_qualifier"  # DC-05: 1 new event → alarm, 3 restore → restore, 6 → status
    ALARM = "alarm"
    RESTORE = "restore"
    STATUS = "status"
    MOMENTARY = "momentary"


QUALIFIER_PHASE: Mapping[str, Phase] = {"1": Phase.ALARM, "3": Phase.RESTORE, "6": Phase.STATUS}
"""The DC-05 qualifier as a phase, for alarm and trouble codes (the ``by_qualifier`` rule)."""


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """One row of the table."""

    code: str
    description: str
    ccc_is: CccIs
    kinds: Mapping[str, str]
    """Qualifier (``"1"``, ``"3"``, ``"6"``) → kind; a qualifier not listed has no mapping."""
    phase_rule: PhaseRule
    priority: int | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def kind_for(self, qualifier: str) -> str | None:
        return self.kinds.get(qualifier)

    def phase_for(self, qualifier: str) -> Phase:
        if self.phase_rule is PhaseRule.BY_QUALIFIER:
            return QUALIFIER_PHASE[qualifier]
        return Phase(self.phase_rule.value)


def _row(code: str, row: Mapping[str, Any]) -> CodeSpec:
    kind = row["kind"]
    kinds = {q: kind for q in QUALIFIER_PHASE} if isinstance(kind, str) else dict(kind)
    ccc_is = row["ccc_is"]
    if ccc_is not in ("zone", "user"):
        raise ValueError(f"codes.json {code}: ccc_is must be 'zone' or 'user', not {ccc_is!r}")
    return CodeSpec(
        code=code,
        description=row["description"],
        ccc_is=ccc_is,
        kinds=kinds,
        phase_rule=PhaseRule(row["phase"]),
        priority=row.get("priority"),
        reason=row.get("reason"),
        data=dict(row.get("data", {})),
    )


def load_table() -> dict[str, CodeSpec]:
    """Read ``codes.json`` from the package; a malformed table fails loudly at import."""
    text = resources.files(__package__ or "plugins.contact_id").joinpath("codes.json").read_text()
    return {code: _row(code, row) for code, row in json.loads(text)["codes"].items()}


CODES: Mapping[str, CodeSpec] = load_table()


def lookup(event_code: str) -> CodeSpec | None:
    return CODES.get(event_code)


def ccc_is(event_code: str) -> CccIs:
    """Whether CCC names a zone or a user; for codes outside the table, users for 4xx
    (open/close and access reports carry a user) and zones otherwise."""
    spec = CODES.get(event_code)
    if spec is not None:
        return spec.ccc_is
    return "user" if event_code.startswith("4") else "zone"
