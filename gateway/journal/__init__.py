"""The durable, hash-chained journal that is the gateway's bus (see docs/journal.md)."""

from gateway.journal.chain import ChainHead
from gateway.journal.consumer import Consumer
from gateway.journal.errors import (
    CorruptDatabaseError,
    CursorInUseError,
    ForeignDatabaseError,
    JournalClosedError,
    JournalError,
    JournalIntegrityError,
    JournalLockedError,
    JournalOpenError,
    JournalWriteError,
    RecordValidationError,
)
from gateway.journal.filters import Filter
from gateway.journal.journal import Journal
from gateway.journal.reader import JournalReader
from gateway.journal.records import JournalRecord, RecordType
from gateway.journal.retention import RetentionPolicy
from gateway.journal.verify import VerifyReport, verify_journal

__all__ = [
    "ChainHead",
    "Consumer",
    "CorruptDatabaseError",
    "CursorInUseError",
    "Filter",
    "ForeignDatabaseError",
    "Journal",
    "JournalClosedError",
    "JournalError",
    "JournalIntegrityError",
    "JournalLockedError",
    "JournalOpenError",
    "JournalReader",
    "JournalRecord",
    "JournalWriteError",
    "RecordType",
    "RecordValidationError",
    "RetentionPolicy",
    "VerifyReport",
    "verify_journal",
]
