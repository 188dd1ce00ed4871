"""Edits made through the API (names, locations, areas) against the YAML's pins.

The YAML stays the source of truth for plugin instances, rules and GB codes; the API may edit
names, locations and area membership, which the registry keeps as overrides in the gateway's
database. This module compares the two (``anfang check`` warns) and folds the edits into the
YAML (``anfang config export``), leaving ``${VARIABLES}`` as they were written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.config.schema import GatewayConfig
from gateway.registry.statedb import StateDB

STATE_DB = "state.sqlite3"


def read_overrides(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The API's edits by address (none when the gateway has never run here)."""
    path = data_dir / STATE_DB
    if not path.is_file():
        return {}
    db = StateDB(path)
    try:
        return dict(db.items("override"))
    finally:
        db.close()


def of_site(
    overrides: dict[str, dict[str, Any]], site: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The edits of ``site``'s addresses, and the other sites the data directory has edits for
    (a config checked against another gateway's data directory, the demo's by default)."""
    mine = {a: f for a, f in overrides.items() if a.split("/", 1)[0] == site}
    others = sorted({a.split("/", 1)[0] for a in overrides} - {site})
    return mine, others


def foreign_edits(where: str, others: list[str], site: str) -> str:
    """The one line said of edits that belong to other sites than the config's."""
    return (
        f"{where} holds API edits for site {', '.join(map(repr, others))}, not {site!r}: "
        "they are left out (give this gateway's --data-dir)"
    )


def disagreements(config: GatewayConfig, overrides: dict[str, dict[str, Any]]) -> list[str]:
    """One line per field where an API edit differs from what the YAML pins; one line for
    edits that belong to another site (they are not this config's to judge)."""
    pins = {p.address: (i, p) for i, p in enumerate(config.devices)}
    mine, others = of_site(overrides, config.site.id)
    lines = [foreign_edits("the data directory", others, config.site.id)] if others else []
    for address, fields in sorted(mine.items()):
        index, pin = pins.get(address, (None, None))
        for key, value in sorted(fields.items()):
            pinned = getattr(pin, key, None) if pin is not None else None
            if pinned == value:
                continue
            where = f"devices[{index}].{key}" if index is not None else f"{address} {key}"
            said = f"the YAML says {pinned!r}" if pinned is not None else "the YAML has no pin"
            lines.append(f"{where}: edited through the API to {value!r} ({said})")
    return lines


def fold(raw: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The raw YAML document with the API's edits written into its ``devices`` pins."""
    devices: list[dict[str, Any]] = [dict(d) for d in raw.get("devices") or []]
    by_address = {d.get("address"): d for d in devices}
    for address, fields in sorted(overrides.items()):
        pin = by_address.get(address)
        if pin is None:
            pin = {"address": address}
            devices.append(pin)
            by_address[address] = pin
        pin.update(fields)
    return {**raw, "devices": devices} if devices else raw
