"""Journal reads in a worker thread (the API's pages, consumers behind the tail): one at a time
on a connection of their own, kept until the thread that reads with it is done, even when the
caller was cancelled (an API client went away)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from gateway.journal import Filter, Journal
from gateway.journal.reader import JournalReader
from gateway.journal.thread_reads import ThreadedReads
from tests.journal.helpers import ev


async def test_a_cancelled_read_keeps_the_connection_until_its_thread_is_done(
    data_dir: Path,
) -> None:
    async with await Journal.open(data_dir) as j:
        for i in range(3):
            await j.append(ev(i))
        reads = ThreadedReads(j.db_path)
        entered, release = threading.Event(), threading.Event()
        busy: list[str] = []  # which read holds the connection, as the threads saw it
        overlaps: list[tuple[str, str]] = []

        def held(reader: JournalReader) -> int:
            busy.append("held")
            entered.set()
            release.wait(10)
            busy.remove("held")
            return len(reader.query(Filter.everything(), limit=10))

        def quick(reader: JournalReader) -> int:
            overlaps.extend(("quick", other) for other in busy)
            return len(reader.query(Filter.everything(), limit=10))

        first = asyncio.create_task(reads.run(held))
        assert await asyncio.to_thread(entered.wait, 10)
        first.cancel()  # the client went away; the thread reads on
        with contextlib.suppress(asyncio.CancelledError):
            await first
        second = asyncio.create_task(reads.run(quick))
        await asyncio.sleep(0.05)
        assert not second.done()  # waits for the first thread, not beside it
        release.set()
        assert await asyncio.wait_for(second, 10) == 3
        assert overlaps == []
        reads.close()


async def test_close_during_a_read_closes_the_connection_after_it(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        await j.append(ev(0))
        reads = ThreadedReads(j.db_path)
        entered, release = threading.Event(), threading.Event()

        def held(reader: JournalReader) -> int:
            entered.set()
            release.wait(10)
            return len(reader.query(Filter.everything(), limit=10))  # still open here

        task = asyncio.create_task(reads.run(held))
        assert await asyncio.to_thread(entered.wait, 10)
        reads.close()
        release.set()
        assert await asyncio.wait_for(task, 10) == 1
        assert reads._reader is None  # closed once the read was done
