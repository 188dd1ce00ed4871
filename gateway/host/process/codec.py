"""What crosses the socket besides events and commands: kinds, filters, records, plugin config.

Events, commands and results are pydantic models and travel as their own JSON; these helpers
cover the rest, each as a pair that the round-trip tests hold to each other.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from pydantic import BaseModel, SecretBytes, SecretStr

from gateway.journal import Filter, JournalRecord, RecordType
from gateway.model.kinds import KindRegistry, KindSpec, Phase

# -- kinds -------------------------------------------------------------------------------------


def kinds_to_wire(kinds: KindRegistry) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "description": s.description,
            "priority": s.priority,
            "phases": sorted(p.value for p in s.phases),
            "owner": s.owner,
        }
        for s in kinds
    ]


def kinds_from_wire(rows: list[dict[str, Any]]) -> KindRegistry:
    return KindRegistry(
        KindSpec(
            r["name"],
            r["description"],
            r["priority"],
            frozenset(Phase(p) for p in r["phases"]),
            r["owner"],
        )
        for r in rows
    )


# -- filters -----------------------------------------------------------------------------------


def filter_to_wire(flt: Filter | None) -> dict[str, Any] | None:
    if flt is None:
        return None
    return {
        "types": sorted(t.value for t in flt.types),
        "kinds": list(flt.kinds),
        "sources": list(flt.sources),
        "phases": sorted(flt.phases),
        "max_priority": flt.max_priority,
    }


def filter_from_wire(raw: dict[str, Any] | None) -> Filter | None:
    if raw is None:
        return None
    return Filter(
        frozenset(RecordType(t) for t in raw["types"]),
        tuple(raw["kinds"]),
        tuple(raw["sources"]),
        frozenset(raw["phases"]),
        raw["max_priority"],
    )


# -- journal records ---------------------------------------------------------------------------


def record_to_wire(record: JournalRecord) -> dict[str, Any]:
    """The whole record, so the plugin gets a real JournalRecord (hashes and all) back."""
    return {
        "seq": record.seq,
        "rtype": record.rtype.value,
        "id": record.id,
        "kind": record.kind,
        "source": record.source,
        "phase": record.phase,
        "priority": record.priority,
        "ts_us": record.ts_us,
        "schema_version": record.schema_version,
        "payload": None if record.payload is None else record.payload.decode(),
        "content_hash": record.content_hash.hex(),
        "prev_hash": record.prev_hash.hex(),
        "hash": record.hash.hex(),
    }


def record_from_wire(raw: dict[str, Any]) -> JournalRecord:
    payload = raw["payload"]
    return JournalRecord(
        raw["seq"],
        RecordType(raw["rtype"]),
        raw["id"],
        raw["kind"],
        raw["source"],
        raw["phase"],
        raw["priority"],
        raw["ts_us"],
        raw["schema_version"],
        None if payload is None else payload.encode(),
        bytes.fromhex(raw["content_hash"]),
        bytes.fromhex(raw["prev_hash"]),
        bytes.fromhex(raw["hash"]),
    )


# -- plugin config -----------------------------------------------------------------------------


def config_to_wire(config: BaseModel) -> Any:
    """The validated config as JSON, secrets included (a JSON dump would mask them as ****)."""
    return pydantic_core.to_jsonable_python(
        _reveal(config.model_dump(mode="python", by_alias=True))
    )


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        secret = value.get_secret_value()
        return secret.decode() if isinstance(secret, bytes) else secret
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_reveal(v) for v in value]
    return value
