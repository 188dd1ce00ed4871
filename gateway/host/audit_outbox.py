"""Audit outbox: operator-log entries written where the journal cannot be opened.

``anfang users`` changes users and tokens in the state database while the gateway may be
running and holding the journal's lock. Its audit entries (GB 50348 §6.4.1: who changed which
account, when) wait in the state database instead, and the gateway moves them into the journal
at its start, every half second, and before any audit record of its own (so a login right
after ``anfang users add`` is journaled after the user's creation, as it happened). An entry
is deleted from the outbox only after the journal
has committed it, and one already in the journal (a crash between the two) is not written
twice, so each change appears in the journal exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from gateway.model.command import AuditEntry
from gateway.registry.statedb import StateDB

log = structlog.get_logger("anfang.audit")

OUTBOX_NS = "audit:outbox"
DRAIN_EVERY_S = 0.5


class AuditOutbox:
    """Entries in arrival order (keyed by time, then id); see the module docstring."""

    def __init__(self, db: StateDB) -> None:
        self._db = db
        self._lock = asyncio.Lock()  # one drain at a time: none journals an entry twice

    def add(self, entry: AuditEntry) -> None:
        """An audit sink for :class:`~gateway.auth.store.AuthStore` (the CLI's)."""
        key = f"{int(entry.at.timestamp() * 1_000_000):020d}-{entry.id}"
        self._db.put(OUTBOX_NS, key, entry.model_dump(mode="json"))

    def pending(self) -> list[tuple[str, AuditEntry]]:
        return [(k, AuditEntry.model_validate(v)) for k, v in self._db.items(OUTBOX_NS).items()]

    async def drain(
        self,
        append: Callable[[AuditEntry], Awaitable[Any]],
        already_journaled: Callable[[str], bool],
    ) -> int:
        """Journal every waiting entry in order; returns how many were written."""
        async with self._lock:
            return await self._drain(append, already_journaled)

    async def append_after_waiting(
        self,
        entry: AuditEntry,
        submit: Callable[[AuditEntry], Awaitable[Any]],
        append: Callable[[AuditEntry], Awaitable[Any]],
        already_journaled: Callable[[str], bool],
    ) -> None:
        """Journal ``entry`` after every entry still waiting in the outbox. ``submit`` hands it
        to the journal at once (the journal keeps that order): only a drain is waited for
        under the lock, so audit records in a burst (a password guesser's) are not written
        one commit after the other."""
        async with self._lock:
            await self._drain(append, already_journaled)  # nothing to await when empty
            written = submit(entry)
        await written

    async def _drain(
        self,
        append: Callable[[AuditEntry], Awaitable[Any]],
        already_journaled: Callable[[str], bool],
    ) -> int:
        written = 0
        for key, entry in self.pending():
            if not already_journaled(entry.id):
                await append(entry)
                written += 1
            self._db.delete(OUTBOX_NS, key)
        return written

    async def drain_periodically(
        self,
        append: Callable[[AuditEntry], Awaitable[Any]],
        already_journaled: Callable[[str], bool],
    ) -> None:
        while True:
            await asyncio.sleep(DRAIN_EVERY_S)
            try:
                await self.drain(append, already_journaled)
            except Exception:  # a bad entry or a busy database: keep it, try again later
                log.exception("audit outbox not drained")
