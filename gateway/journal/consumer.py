"""Consumers: read the journal in order from a position, optionally a durable named cursor.

A live consumer is served from the journal's in-memory tail and woken the moment a commit lands;
one that has fallen behind the tail reads the database in a worker thread, so it never slows the
writer or the other consumers. Delivery is at least once: a consumer that crashes before it
commits its position sees the same records again after a restart.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from gateway.journal.filters import Filter
from gateway.journal.records import JournalRecord
from gateway.journal.store import DB_NAME
from gateway.journal.thread_reads import ThreadedReads

if TYPE_CHECKING:
    from gateway.journal.journal import Journal

READ_BATCH = 512


def _expire(waiter: asyncio.Future[int]) -> None:
    if not waiter.done():
        waiter.set_result(-1)


class Consumer:
    """Iterate with ``async for record in consumer``; ``commit(seq)`` after handling."""

    def __init__(
        self,
        journal: Journal,
        flt: Filter,
        name: str | None,
        position: int,
        *,
        wake_for_matches: bool = False,
    ) -> None:
        self._journal = journal
        self.filter = flt
        self._wake_filter = flt if wake_for_matches else None
        self.name = name
        self.position = position
        """Highest seq examined so far (delivered or skipped by the filter)."""
        self.committed = position
        self._buffer: deque[JournalRecord] = deque()
        self._reads = ThreadedReads(journal.data_dir / DB_NAME)
        self._waiter: asyncio.Future[int] | None = None
        self._closed = False

    def __aiter__(self) -> Consumer:
        return self

    async def __anext__(self) -> JournalRecord:
        while not self._buffer:
            batch = await self.next_batch()
            if not batch and self._closed:
                raise StopAsyncIteration
            self._buffer.extend(batch)
        return self._buffer.popleft()

    @property
    def lag(self) -> int:
        """Committed records this consumer has not examined yet."""
        return max(0, self._journal.committed_seq - self.position)

    async def next_batch(
        self, limit: int = READ_BATCH, timeout: float | None = None
    ) -> list[JournalRecord]:
        """Wait for matching records after the current position and return up to ``limit``.

        Returns [] on timeout or when the consumer or journal closes.
        """
        if limit < 1:
            raise ValueError(f"next_batch limit must be at least 1, got {limit}")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._closed:
            head = self._journal.committed_seq
            if self.position < head:
                batch = self._journal.tail_read(self.position, head, limit, self.filter)
                if batch is None:
                    batch = await self._read_db(head, limit)
                records, self.position = batch
                if records:
                    return records
                continue
            if self._journal.closed:
                self._closed = True
                break
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return []  # before making a waiter: one nobody awaits would never be done
            # no await since reading the head: a commit cannot slip in before the waiter
            waiter = self._journal.commit_waiter(self._wake_filter)
            expiry = None if remaining is None else loop.call_later(remaining, _expire, waiter)
            self._waiter = waiter
            try:
                nothing_before = await waiter
            finally:
                self._waiter = None
                if expiry is not None:
                    expiry.cancel()
            if nothing_before < 0:
                return []  # timed out
            # records the journal already tested against our filter while we waited
            self.position = max(self.position, nothing_before)
        return []

    async def _read_db(self, head: int, limit: int) -> tuple[list[JournalRecord], int]:
        position = self.position
        return await self._reads.run(
            lambda reader: reader.scan(self.filter, after_seq=position, upto_seq=head, limit=limit)
        )

    def commit(self, seq: int) -> None:
        """Remember that everything up to ``seq`` is handled (durable with the next commit)."""
        if seq > self.committed:
            self.committed = seq
            if self.name is not None:
                self._journal.commit_cursor(self.name, seq)

    def close(self) -> None:
        self._reads.close()  # at once, or once a read running in its thread is done
        if self._closed:
            return
        self._closed = True
        self._journal.release_cursor(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():  # a wait in progress ends now
            waiter.set_result(0)
