from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.journal import (
    CursorInUseError,
    Filter,
    Journal,
    JournalClosedError,
    JournalReader,
    RecordType,
    RecordValidationError,
)
from gateway.journal.records import prepare
from gateway.journal.verify import verify_journal
from gateway.model import AuditEntry, Command, CommandResult, ResultStatus
from tests.journal.helpers import ev


async def test_append_returns_increasing_seqs_and_data_survives_reopen(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        seqs = [await j.append(ev(i)) for i in range(5)]
        more = await asyncio.gather(*(j.append(ev(i)) for i in range(5, 105)))
    assert seqs == [1, 2, 3, 4, 5]
    assert sorted(more) == list(range(6, 106))
    async with await Journal.open(data_dir) as j:
        assert j.head().seq == 105
        assert await j.append(ev(999)) == 106
        rec = j.reader.get(3)
        assert rec is not None and rec.event.data == {"n": 2} and rec.event.seq == 3


async def test_live_connection_is_wal_with_synchronous_full(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        sync = await j.run_on_writer(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
        mode = await j.run_on_writer(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
    assert sync == 2  # FULL
    assert mode == "wal"


async def test_all_record_types_are_journaled(data_dir: Path) -> None:
    cmd = Command(target="hq/door-3", action="door.unlock", issued_by="operator:li")
    res = CommandResult(
        command_id=cmd.id,
        target=cmd.target,
        action=cmd.action,
        status=ResultStatus.DENIED,
        detail="area armed",
    )
    audit = AuditEntry(actor="admin", action="user.add", target="li", remote="127.0.0.1")
    async with await Journal.open(data_dir) as j:
        for payload in (ev(), cmd, res, audit):
            await j.append(payload)
        got = j.reader.query(Filter.everything())
    assert [r.rtype for r in got] == [
        RecordType.EVENT,
        RecordType.COMMAND,
        RecordType.RESULT,
        RecordType.AUDIT,
    ]
    assert got[1].model == cmd and got[2].model == res and got[3].model == audit
    assert got[2].phase == "denied"
    # the event's JSON with seq spliced into the stored bytes is what the model would encode
    assert got[0].event_json() == got[0].event.model_dump_json().encode()
    assert b'"seq":%d,' % got[0].seq in (got[0].event_json() or b"")
    assert [r.event_json() for r in got[1:]] == [None, None, None]


async def test_non_record_is_refused_and_nothing_written(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        with pytest.raises(RecordValidationError, match="only Event"):
            await j.append({"kind": "intrusion"})  # type: ignore[arg-type]
        assert j.head().seq == 0
    with pytest.raises(RecordValidationError):
        prepare("text")  # type: ignore[arg-type]


async def test_append_after_close_fails_loudly(data_dir: Path) -> None:
    j = await Journal.open(data_dir)
    await j.close()
    with pytest.raises(JournalClosedError):
        await j.append(ev())


async def test_consumer_is_woken_by_commit_and_sees_order(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        consumer = j.subscribe(Filter())
        got: list[int] = []

        async def read() -> None:
            async for record in consumer:
                got.append(record.event.data["n"])
                if len(got) == 50:
                    return

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.01)
        for i in range(50):
            await j.append(ev(i))
        await asyncio.wait_for(reader, 5)
    assert got == list(range(50))


async def test_cursor_resumes_after_restart(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        for i in range(10):
            await j.append(ev(i))
        c = j.subscribe(Filter(), cursor="northbound")
        batch = await c.next_batch(limit=4)
        assert [r.seq for r in batch] == [1, 2, 3, 4]
        c.commit(batch[-1].seq)
        await j.flush()
    async with await Journal.open(data_dir) as j:
        c = j.subscribe(Filter(), cursor="northbound")
        batch = await c.next_batch()
        assert [r.seq for r in batch] == list(range(5, 11))
    reader = JournalReader.open(data_dir)
    assert reader.cursors() == {"northbound": 4}
    reader.close()


async def test_cursor_name_held_by_two_consumers_is_refused(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        first = j.subscribe(cursor="mqtt")
        with pytest.raises(CursorInUseError, match="'mqtt' is already held"):
            j.subscribe(cursor="mqtt")
        first.close()
        j.subscribe(cursor="mqtt").close()


async def test_a_cursor_taken_over_at_once_starts_where_it_was_committed(data_dir: Path) -> None:
    """A consumer replaced in the same process (a reload) must not wait for the position to
    reach the disk: it starts from the newest commit, not the older stored one."""
    async with await Journal.open(data_dir) as j:
        for i in range(6):
            await j.append(ev(i))
        first = j.subscribe(Filter(), cursor="rules")
        batch = await first.next_batch(limit=4)
        first.commit(batch[-1].seq)  # queued for the next transaction, not yet written
        first.close()
        second = j.subscribe(Filter(), cursor="rules")
        assert [r.seq for r in await second.next_batch()] == [5, 6]
        second.close()


async def test_slow_consumer_never_blocks_appends_and_catches_up_in_order(data_dir: Path) -> None:
    async with await Journal.open(data_dir, tail_size=256) as j:
        slow = j.subscribe(Filter(), cursor="slow")  # never reads while we append
        n = 3000
        await asyncio.wait_for(asyncio.gather(*(j.append(ev(i)) for i in range(n))), 30)
        assert j.head().seq == n
        assert slow.lag == n
        seen: list[int] = []
        while len(seen) < n:
            seen.extend(r.seq for r in await slow.next_batch(limit=700))
        assert seen == list(range(1, n + 1))  # read from the database, then the tail


async def test_filters_select_by_kind_source_phase_priority(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        await j.append(ev(1, kind="trouble.ac_loss", source="hq/panel-1", priority=3))
        await j.append(ev(2, kind="troubles", source="hq/panel-1"))  # not "trouble.*"
        await j.append(ev(3, kind="fire", source="branch/panel-2/zone-9", priority=1))
        await j.append(ev(4, kind="fire", source="hq/panel-1/zone-2", phase="restore"))
        flt_kind = Filter.build(kinds=["trouble"])
        flt_src = Filter.build(sources=["branch/*"])
        flt_phase = Filter.build(phases=["restore"])
        flt_prio = Filter.build(max_priority=1)

        def ns(flt: Filter) -> list[int]:
            return [r.event.data["n"] for r in j.reader.query(flt)]

        assert ns(flt_kind) == [1]
        assert ns(flt_src) == [3]
        assert ns(flt_phase) == [4]
        assert ns(flt_prio) == [3]


_kinds = st.sampled_from(["intrusion", "trouble", "trouble.ac_loss", "fire", "video.motion"])
_sources = st.sampled_from(["hq/p1", "hq/p1/z1", "br/cam-1", "br/door-1"])


@settings(max_examples=40, deadline=None)
@given(
    records=st.lists(
        st.tuples(_kinds, _sources, st.sampled_from(["alarm", "restore"]), st.integers(1, 4)),
        min_size=1,
        max_size=15,
    ),
    kinds=st.lists(st.sampled_from(["trouble", "fire", "video.*", "tro*"]), max_size=2),
    sources=st.lists(
        st.sampled_from(["hq/*", "br/*", "*/z1", "br/door-[!2]", "*/door-?"]), max_size=2
    ),
    max_priority=st.one_of(st.none(), st.integers(1, 4)),
)
def test_memory_and_sql_filters_agree(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[str, str, str, int]],
    kinds: list[str],
    sources: list[str],
    max_priority: int | None,
) -> None:
    flt = Filter.build(kinds=kinds, sources=sources, max_priority=max_priority)

    async def run() -> tuple[list[int], list[int]]:
        d = tmp_path_factory.mktemp("flt")
        async with await Journal.open(d) as j:
            for i, (kind, source, phase, prio) in enumerate(records):
                await j.append(ev(i, kind=kind, source=source, phase=phase, priority=prio))
            everything = j.reader.query(Filter.everything())
            in_memory = [r.seq for r in everything if flt.matches(r)]
            in_sql = [r.seq for r in j.reader.query(flt)]
        return in_memory, in_sql

    in_memory, in_sql = asyncio.run(run())
    assert in_memory == in_sql


async def test_next_batch_times_out_empty(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        c = j.subscribe()
        assert await c.next_batch(timeout=0.05) == []


async def test_batches_of_any_size_are_written_whole_and_in_order(data_dir: Path) -> None:
    """The writer splits a batch into power-of-two multi-row INSERTs (513 = 512 + 1, 1100 =
    512 + 512 + 64 + 8 + 4): every record must land once, in order, on an intact chain."""
    sizes = [1, 2, 3, 7, 513, 1100]
    async with await Journal.open(data_dir) as j:
        n = 0
        for size in sizes:
            seqs = await j.append_many([ev(n + i) for i in range(size)])
            assert seqs == list(range(n + 1, n + size + 1))
            n += size
        records = j.reader.query(Filter.build(), limit=10_000)
        assert [r.event.data["n"] for r in records] == list(range(n))
    assert verify_journal(data_dir).ok


async def test_a_consumer_waking_for_matches_sleeps_through_records_it_does_not_want(
    data_dir: Path,
) -> None:
    """Commits of records nobody in the narrow feed wants leave its waiters asleep (their
    position stays put), while a plain consumer of the same filter wakes and steps past them;
    the next wanted record wakes both, and both deliver exactly it."""
    fire = Filter.build(kinds=["fire"])
    async with await Journal.open(data_dir) as j:
        plain = j.subscribe(fire)
        narrow = j.subscribe(fire, wake_for_matches=True)
        start = j.committed_seq
        plain_read = asyncio.create_task(plain.next_batch())
        narrow_read = asyncio.create_task(narrow.next_batch())
        await asyncio.sleep(0)
        for i in range(3):
            await j.append(ev(i, kind="intrusion"))
        await asyncio.sleep(0.01)
        assert plain.position == start + 3  # woken three times, found nothing, waits again
        assert narrow.position == start  # never woken
        assert not plain_read.done() and not narrow_read.done()
        seq = await j.append(ev(9, kind="fire.smoke"))
        got_plain = await asyncio.wait_for(plain_read, 5)
        got_narrow = await asyncio.wait_for(narrow_read, 5)
        assert [r.seq for r in got_plain] == [r.seq for r in got_narrow] == [seq]
        assert narrow.position == seq


async def test_closing_wakes_a_consumer_waiting_for_matches(data_dir: Path) -> None:
    async with await Journal.open(data_dir) as j:
        narrow = j.subscribe(Filter.build(kinds=["fire"]), wake_for_matches=True)
        waiting = asyncio.create_task(narrow.next_batch())
        await asyncio.sleep(0)
        narrow.close()
        assert await asyncio.wait_for(waiting, 5) == []


async def test_timed_out_match_waits_do_not_pile_up(data_dir: Path) -> None:
    """A narrow feed on a journal that never commits what it wants times out over and over:
    the dead waiters are dropped, not kept for ever."""
    async with await Journal.open(data_dir) as j:
        narrow = j.subscribe(Filter.build(kinds=["fire"]), wake_for_matches=True)
        for _ in range(1100):
            assert await narrow.next_batch(timeout=0.0001) == []
        assert await narrow.next_batch(timeout=0) == []
        waiters = j._match_waiters[narrow.filter]
        assert len(waiters) <= 1025


def test_a_cursor_cannot_wake_only_for_matches(data_dir: Path) -> None:
    async def run() -> None:
        async with await Journal.open(data_dir) as j:
            with pytest.raises(ValueError, match="without a cursor"):
                j.subscribe(Filter(), "mqtt", wake_for_matches=True)
            j.subscribe(Filter(), "mqtt").close()  # the refused call did not take the name

    asyncio.run(run())


async def test_a_consumer_waking_for_matches_steps_over_what_it_slept_through(
    data_dir: Path,
) -> None:
    """More unwanted records than the in-memory tail holds go by while it waits: woken by the
    next wanted one, it reads only that (from memory), not the database from where it was."""
    async with await Journal.open(data_dir, tail_size=256) as j:
        narrow = j.subscribe(Filter.build(kinds=["fire"]), wake_for_matches=True)
        reading = asyncio.create_task(narrow.next_batch())
        await asyncio.sleep(0)
        for start in range(0, 600, 200):
            await j.append_many([ev(i, kind="intrusion") for i in range(start, start + 200)])
        seq = await j.append(ev(999, kind="fire"))
        got = await asyncio.wait_for(reading, 5)
        assert [r.seq for r in got] == [seq]
        assert narrow._reads._reader is None  # never fell back to reading the database
