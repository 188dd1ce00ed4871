"""The journal's errors: each names what went wrong and where, for a person to act on."""

from __future__ import annotations


class JournalError(Exception):
    """Base class of every journal error."""


class JournalOpenError(JournalError):
    """The journal cannot be opened: directory, lock, or file problems."""


class CorruptDatabaseError(JournalOpenError):
    """The file is not a readable SQLite database."""


class ForeignDatabaseError(JournalOpenError):
    """The file is a SQLite database, but not an Anfang journal (or from a newer Anfang)."""


class JournalLockedError(JournalOpenError):
    """Another process has the journal open for writing."""


class JournalIntegrityError(JournalOpenError):
    """The journal does not match its anchor: newest records were removed or altered."""


class JournalWriteError(JournalError):
    """An append was not committed (disk full, I/O error); the record is NOT in the journal."""


class JournalClosedError(JournalError):
    """The journal is closed; nothing more can be appended."""


class RecordValidationError(JournalError, ValueError):
    """A record that is not a valid canonical record; it was not appended."""


class CursorInUseError(JournalError):
    """A durable cursor name is already held by a live consumer."""


class RecordPrunedError(JournalError, LookupError):
    """The record's payload was removed by retention (a tombstone); its hashes remain."""
