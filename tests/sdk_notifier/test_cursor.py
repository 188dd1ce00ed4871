"""Requests come from a durable cursor: owed ones survive restarts, none is lost or repeated,
and the cursor never runs ahead of a request without a result."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from gateway.journal import Journal
from gateway.sdk.notifier import CommitWindow
from tests.sdk_notifier.helpers import (
    FAST_RETRIES,
    ask,
    cursor_position,
    gateway_for,
    journaled_results,
    notifier,
    request_event,
    result_of,
    running,
)
from tests.sdk_notifier.scripted import ScriptedNotifier

CONFIG = {"default_to": ["duty"], "concurrency": 2, **FAST_RETRIES}


def test_the_commit_window_moves_only_over_a_leading_run_of_finished_positions() -> None:
    window = CommitWindow()
    for seq in (3, 5, 8):
        window.take(seq)
    assert window.finish(5) is None
    assert window.finish(3) == 5
    assert len(window) == 1
    assert window.finish(8) == 8
    assert len(window) == 0


async def test_requests_journaled_before_the_first_start_are_delivered(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "data") as journal:
        early = request_event(subject="ok made while the notifier was not running")
        await journal.append(early)
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        result = await result_of(gw, early)
        assert result.status == "delivered"


async def test_the_cursor_waits_for_an_unfinished_request_before_it(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        held = await ask(gw, subject="hold-a slow mail server")
        quick = await ask(gw, subject="ok")
        assert (await result_of(gw, quick)).status == "delivered"
        assert held.seq is None  # events are built without seq; read positions from the journal
        held_seq = _seq_of(gw, held.id)
        assert cursor_position(gw) < held_seq
        ScriptedNotifier.gates.setdefault("a", asyncio.Event()).set()
        assert (await result_of(gw, held)).status == "delivered"
        assert cursor_position(gw) >= _seq_of(gw, quick.id)


async def test_a_restart_delivers_the_unfinished_request_and_never_repeats_a_finished_one(
    tmp_path: Path,
) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        held = await ask(gw, subject="hold-a")
        quick = await ask(gw, subject="ok")
        await result_of(gw, quick)
        assert cursor_position(gw) < _seq_of(gw, held.id)
    # the gateway stopped with `held` in the middle of its delivery: no result for it yet
    ScriptedNotifier.gates.setdefault("a", asyncio.Event()).set()
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        assert (await result_of(gw, held)).status == "delivered"
        follow = await ask(gw, subject="ok after the restart")
        await result_of(gw, follow)
        per_request = Counter(r.request for r in journaled_results(gw))
        assert per_request == {held.id: 1, quick.id: 1, follow.id: 1}
        tries = Counter(a[0] for a in ScriptedNotifier.attempts)
        assert tries[quick.id] == 1, "a finished request is not delivered again"
        assert tries[held.id] == 2, "the interrupted one is tried again after the restart"
        assert notifier(gw).ctx.counters["duplicates_skipped"] == 1
        assert notifier(gw).ctx.state.items() == {}, "the finished-ahead record is cleaned up"


async def test_failed_attempts_count_across_a_restart(tmp_path: Path) -> None:
    """Two attempts failed, the third was cut short by a stop: after the restart the third is
    made again and the result says 3 (it said 1, and the budget started over)."""
    config = {**CONFIG, "attempts": 5}
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        asked = await ask(gw, subject="transient-2-hold-b")
        while len([a for a in ScriptedNotifier.attempts if a[0] == asked.id]) < 3:  # noqa: ASYNC110 - counted in the notifier's task
            await asyncio.sleep(0.01)
    ScriptedNotifier.gates.setdefault("b", asyncio.Event()).set()
    async with running(gateway_for(tmp_path, ScriptedNotifier, config)) as gw:
        result = await result_of(gw, asked)
        assert (result.status, result.attempts) == ("delivered", 3)
        tries = [a[2] for a in ScriptedNotifier.attempts if a[0] == asked.id]
        assert tries == [1, 2, 3, 3], "the interrupted third attempt is made again"
        assert notifier(gw).ctx.state.items() == {}, "nothing is left behind"


async def test_after_a_clean_restart_nothing_is_delivered_again(tmp_path: Path) -> None:
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        done = [await ask(gw, subject=s) for s in ("ok", "permanent", "transient-1")]
        for event in done:
            await result_of(gw, event)
    before = list(ScriptedNotifier.attempts)
    async with running(gateway_for(tmp_path, ScriptedNotifier, CONFIG)) as gw:
        marker = await ask(gw, subject="ok marker")
        await result_of(gw, marker)
        assert ScriptedNotifier.attempts[len(before) :] == [(marker.id, "ok marker", 1)]
        assert len(journaled_results(gw)) == 4


def _seq_of(gw: object, event_id: str) -> int:
    from gateway.journal import Filter

    journal = gw.journal  # type: ignore[attr-defined]
    for record in journal.reader.query(Filter.build(kinds=["notify.request"]), limit=10_000):
        if record.id == event_id:
            return int(record.seq)
    raise AssertionError(f"{event_id} is not in the journal")
