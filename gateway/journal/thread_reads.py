"""Journal reads in a worker thread, on a connection of their own, one at a time.

For whoever reads from the event loop without holding it up: a consumer behind the in-memory
tail, the API's pages. The journal's shared reader belongs to the loop's thread, and Python's
sqlite3 does not guard a connection used from two threads: that ends in a crash, not an error.
Cancelling the caller does not stop its thread, so the connection (and the turn) stays with
that thread until it is done, and a close meanwhile takes effect then: closing a connection
under a running scan crashed the process inside SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from gateway.journal.reader import JournalReader
from gateway.journal.store import open_reader

T = TypeVar("T")


class ThreadedReads:
    """Opened lazily on the first read; closed by :meth:`close`, or after it by the read then
    running."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._reader: JournalReader | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def run(self, read: Callable[[JournalReader], T]) -> T:
        """``read(reader)`` in a worker thread; the next read starts only once it returned."""
        await self._lock.acquire()
        try:
            if self._closed:
                raise RuntimeError("these journal reads are closed")
            if self._reader is None:
                self._reader = JournalReader(open_reader(self._db_path))
            work = asyncio.get_running_loop().run_in_executor(None, read, self._reader)
        except BaseException:
            self._lock.release()
            raise
        work.add_done_callback(self._done)
        return await asyncio.shield(work)

    def _done(self, work: asyncio.Future[Any]) -> None:
        self._lock.release()
        if self._closed:
            self._close_reader()
        if not work.cancelled():
            work.exception()  # retrieved here when the request went away

    def close(self) -> None:
        self._closed = True
        if not self._lock.locked():  # else the running read's thread closes it when done
            self._close_reader()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
