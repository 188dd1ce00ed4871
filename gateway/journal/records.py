"""Journal records: the canonical payload plus the header columns the journal indexes.

The payload is stored as the exact JSON bytes the model produced; those bytes are what the hash
chain covers, so verification never depends on re-serialising anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from gateway.journal import chain
from gateway.journal.errors import RecordPrunedError, RecordValidationError
from gateway.model.command import AuditEntry, Command, CommandResult
from gateway.model.event import Event

Payload = Event | Command | CommandResult | AuditEntry

_NULL_SEQ = b',"seq":null,'
_SEQ_WITHIN = 160
"""In a stored event ``seq`` follows ``schema_version`` and ``id`` (at most 64 characters)."""


class RecordType(StrEnum):
    EVENT = "event"
    COMMAND = "command"
    RESULT = "result"
    AUDIT = "audit"


MODEL_BY_TYPE: dict[RecordType, type[BaseModel]] = {
    RecordType.EVENT: Event,
    RecordType.COMMAND: Command,
    RecordType.RESULT: CommandResult,
    RecordType.AUDIT: AuditEntry,
}


@dataclass(slots=True)
class Entry:
    """A record ready to be written: header columns and payload bytes, no seq yet."""

    rtype: RecordType
    id: str
    kind: str
    source: str
    phase: str
    priority: int
    ts_us: int
    schema_version: int
    payload: bytes
    obj: Payload

    def committed(
        self, seq: int, content_hash: bytes, prev_hash: bytes, digest: bytes
    ) -> JournalRecord:
        """The record this entry became at ``seq`` (``digest`` may be filled in after)."""
        return JournalRecord(
            seq,
            self.rtype,
            self.id,
            self.kind,
            self.source,
            self.phase,
            self.priority,
            self.ts_us,
            self.schema_version,
            self.payload,
            content_hash,
            prev_hash,
            digest,
            self.obj,
        )


def _ts_us(value: Any) -> int:
    return int(value.timestamp() * 1_000_000)


Header = tuple[RecordType, str, str, str, int, int]
"""rtype, kind, source, phase, priority, ts_us: the columns each record type fills its own way."""


def _header(payload: Payload) -> Header:
    if isinstance(payload, Event):
        return (
            RecordType.EVENT,
            payload.kind,
            payload.source,
            payload.phase.value,
            payload.priority,
            _ts_us(payload.received_at),
        )
    if isinstance(payload, Command):
        return (
            RecordType.COMMAND,
            payload.action,
            payload.target,
            "",
            0,
            _ts_us(payload.created_at),
        )
    if isinstance(payload, CommandResult):
        return (
            RecordType.RESULT,
            payload.action,
            payload.target,
            payload.status.value,
            0,
            _ts_us(payload.completed_at),
        )
    if isinstance(payload, AuditEntry):
        return (
            RecordType.AUDIT,
            payload.action,
            payload.target or "",
            payload.result,
            0,
            _ts_us(payload.at),
        )
    raise RecordValidationError(
        f"cannot journal a {type(payload).__name__}: only Event, Command, CommandResult and "
        "AuditEntry are records"
    )


def prepare(payload: Payload) -> Entry:
    """Turn a canonical model into a journal entry; RecordValidationError if it is not one."""
    rtype, kind, source, phase, priority, ts_us = _header(payload)
    return Entry(
        rtype,
        payload.id,
        kind,
        source,
        phase,
        priority,
        ts_us,
        payload.schema_version,
        # The serializer's bytes as they are: model_dump_json() decodes them to text, which
        # would only be encoded again (twice the cost, on every record).
        payload.__pydantic_serializer__.to_json(payload),
        payload,
    )


@dataclass(slots=True)
class JournalRecord:
    """A committed record as read back from the journal (``payload`` is None once pruned)."""

    seq: int
    rtype: RecordType
    id: str
    kind: str
    source: str
    phase: str
    priority: int
    ts_us: int
    schema_version: int
    payload: bytes | None
    content_hash: bytes
    prev_hash: bytes
    hash: bytes
    _obj: Payload | None = field(default=None, repr=False)

    @property
    def pruned(self) -> bool:
        return self.payload is None

    def digest(self) -> bytes:
        """The record's own digest (seq, header, content hash) that the chain links."""
        return chain.record_digest(
            self.seq,
            self.rtype.value,
            self.id,
            self.kind,
            self.source,
            self.phase,
            self.priority,
            self.ts_us,
            self.schema_version,
            self.content_hash,
        )

    def as_row(self) -> tuple[Any, ...]:
        """The values of :data:`COLUMNS`, in order."""
        return (
            self.seq,
            self.rtype.value,
            self.id,
            self.kind,
            self.source,
            self.phase,
            self.priority,
            self.ts_us,
            self.schema_version,
            self.payload,
            self.content_hash,
            self.prev_hash,
            self.hash,
        )

    @property
    def model(self) -> Payload | None:
        """The payload as its model (with ``seq`` set on events); None for a tombstone."""
        if self._obj is None:
            if self.payload is None:
                return None
            model_type = MODEL_BY_TYPE[self.rtype]
            try:
                obj: Any = model_type.model_validate_json(self.payload)
            except ValidationError as exc:
                raise RecordValidationError(
                    f"record seq {self.seq} does not validate as {model_type.__name__} "
                    f"schema_version {self.schema_version}: {exc.errors()[0]['msg']}"
                ) from exc
            self._obj = obj
        if isinstance(self._obj, Event) and self._obj.seq != self.seq:
            self._obj = self._obj.model_copy(update={"seq": self.seq})
        return self._obj

    def event_json(self) -> bytes | None:
        """An event's JSON with ``seq`` set, spliced into the stored bytes instead of parsing
        and re-encoding them (what the model would give, for a fraction of the cost); None for
        other record types and tombstones."""
        raw = self.payload
        if raw is None or self.rtype is not RecordType.EVENT:
            return None
        at = raw.find(_NULL_SEQ, 0, _SEQ_WITHIN)
        if at < 0:
            model = self.model
            return model.model_dump_json().encode() if model is not None else None
        return b'%s,"seq":%d,%s' % (raw[:at], self.seq, raw[at + len(_NULL_SEQ) :])

    @property
    def content(self) -> Payload | None:
        """The payload as written, without ``seq`` filled in (no copy): for readers that only
        look at what an event says. None for a tombstone."""
        if self._obj is None and self.payload is not None:
            return self.model
        return self._obj

    @property
    def event(self) -> Event:
        """The payload as an Event; raises for other record types and tombstones."""
        obj = self.model
        if obj is None:
            raise RecordPrunedError(
                f"record seq {self.seq} was pruned by retention: only its hashes remain"
            )
        if not isinstance(obj, Event):
            raise TypeError(f"record seq {self.seq} is a {self.rtype} record, not an event")
        return obj


COLUMNS = (
    "seq, rtype, id, kind, source, phase, priority, ts_us, schema_version, payload, "
    "content_hash, prev_hash, hash"
)


def from_row(row: tuple[Any, ...]) -> JournalRecord:
    """A record from a row selected with :data:`COLUMNS`."""
    return JournalRecord(
        row[0],
        RecordType(row[1]),
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
    )
