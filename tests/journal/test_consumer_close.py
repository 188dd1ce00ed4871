"""A consumer closed while a worker thread reads the database for it (a gateway stopped while a
tracker catches up): the connection is closed only once the thread is done with it. Closing it
under the running scan crashed the process inside SQLite (seen once in CI, a segfault)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

from gateway.journal import Filter, Journal
from tests.journal.helpers import ev


class _HeldReader:
    """Stands in for the consumer's own reader: its scan waits until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.scanning = False
        self.closed = False
        self.closed_while_scanning = False

    def scan(self, flt: Filter, *, after_seq: int, upto_seq: int, limit: int) -> Any:
        self.scanning = True
        self.entered.set()
        self.release.wait(10)
        self.scanning = False
        return [], upto_seq

    def close(self) -> None:
        self.closed_while_scanning = self.scanning
        self.closed = True


async def test_the_connection_outlives_a_cancelled_read_and_a_close(data_dir: Path) -> None:
    async with await Journal.open(data_dir, tail_size=4) as j:
        for i in range(20):
            await j.append(ev(i))
        consumer = j.subscribe(Filter.everything(), after=0)  # far behind the 4-record tail
        reader = _HeldReader()
        consumer._reads._reader = reader  # type: ignore[assignment]
        task = asyncio.create_task(consumer.next_batch())
        assert await asyncio.to_thread(reader.entered.wait, 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        consumer.close()
        assert not reader.closed  # the thread still reads with it
        reader.release.set()
        for _ in range(500):
            if reader.closed:
                break
            await asyncio.sleep(0.01)
        assert reader.closed and not reader.closed_while_scanning
