"""The SIA DC-03 event-code table (``codes.json``): what each two-letter code means here.

The table is data, reviewed like code: every code of the DC-03 list (as pysiaalarm has it) with
its core kind, its phase, what its address field names, and a reason wherever the choice is a
judgement (a generic kind, a status on a condition kind, a priority that differs from the
kind's default). Unlike Contact ID, an SIA code carries its own phase (BA alarm, BH restore,
BB bypass, CL closing), so the phase is fixed per code. Codes outside the table are not
refused: :mod:`plugins.sia_dc09.sia.mapping` reports them as ``sia_dc09.unmapped``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, get_args

from gateway.model.kinds import KindRegistry, Phase

AddressIs = Literal["zone", "user", "area", "none"]
"""What an event's address (the digits after the code) names."""

_ADDRESS_VALUES: frozenset[str] = frozenset(get_args(AddressIs))

CONCERNS_ADDRESS: Mapping[str, AddressIs] = MappingProxyType(
    {
        "Zone or point": "zone",
        "Zone number": "zone",
        "Point number": "zone",
        "User number": "user",
        "User": "user",
        "Area number": "area",
    }
)
"""The DC-03 "concerns" column read as an address meaning; every other value (door, relay,
printer, line, expander number, "Unused", ...) is ``none``: the number is kept in event data,
never turned into a zone point that could collide with a real zone."""


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """One row of the table."""

    code: str
    name: str
    """The DC-03 type, e.g. ``Burglary Alarm``."""
    description: str
    """The DC-03 text, e.g. ``Burglary zone has been violated while armed``."""
    concerns: str
    """What the DC-03 list says the address carries, verbatim (``Zone or point``)."""
    address: AddressIs
    kind: str
    phase: Phase
    priority: int | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The event text: the type and its text (``BH`` alone would read "Alarm condition
        eliminated", the same words as FH, GH and HH)."""
        return f"{self.name}: {self.description}"


def _row(code: str, row: Mapping[str, Any], core: KindRegistry) -> CodeSpec:
    address = row["address"]
    if address not in _ADDRESS_VALUES:
        raise ValueError(f"codes.json {code}: address must be zone, user, area or none")
    spec = CodeSpec(
        code=code,
        name=row["name"],
        description=row["description"],
        concerns=row["concerns"],
        address=address,
        kind=row["kind"],
        phase=Phase(row["phase"]),
        priority=row.get("priority"),
        reason=row.get("reason"),
        data=MappingProxyType(dict(row.get("data", {}))),
    )
    core.check(spec.kind, spec.phase)  # an unknown kind or a phase it does not take: fail now
    return spec


def load_table() -> dict[str, CodeSpec]:
    """Read ``codes.json`` from the package; a malformed table fails loudly at import."""
    package = __package__ or "plugins.sia_dc09.sia"
    text = resources.files(package).joinpath("codes.json").read_text(encoding="utf-8")
    core = KindRegistry()
    return {code: _row(code, row, core) for code, row in json.loads(text)["codes"].items()}


CODES: Mapping[str, CodeSpec] = MappingProxyType(load_table())


def lookup(code: str) -> CodeSpec | None:
    return CODES.get(code)
