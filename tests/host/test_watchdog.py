"""The loop watchdog on a real loop: real blocking calls, a real thread, no mocks."""

from __future__ import annotations

import asyncio
import threading
import time

from structlog.testing import capture_logs

from gateway.host.watchdog import LoopWatchdog, StallReport, instance_of


def block_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # what a careless plugin does: a synchronous call on the loop


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "anfang-watchdog"]


async def test_plugin_blocking_the_loop_for_2s_is_reported_with_its_stack() -> None:
    reports: list[StallReport] = []
    wd = LoopWatchdog(asyncio.get_running_loop(), reports.append)
    logged_while_blocked: list[str] = []

    async def poll() -> None:
        await asyncio.sleep(0.2)
        block_the_loop(2.0)
        logged_while_blocked.extend(e["event"] for e in logs)  # the loop has not run since

    with capture_logs() as logs:
        wd.start()
        try:
            await asyncio.create_task(poll(), name="slowplug:poll")
            await asyncio.sleep(0.3)
        finally:
            wd.stop()

    assert logged_while_blocked == ["event loop blocked"]
    assert len(reports) == 1
    report = reports[0]
    assert report.task == "slowplug:poll" and report.instance == "slowplug"
    assert 1.9 <= report.blocked_s < 3.0
    assert "block_the_loop" in report.culprit and __file__ in report.culprit
    assert "block_the_loop" in report.stack and "poll" in report.stack and __file__ in report.stack
    assert wd.stalls == 1 and wd.longest_s == report.blocked_s
    blocked = next(e for e in logs if e["event"] == "event loop blocked")
    assert blocked["log_level"] == "error" and blocked["instance"] == "slowplug"
    assert "block_the_loop" in blocked["stack"]


async def test_a_loop_that_keeps_awaiting_is_never_reported() -> None:
    reports: list[StallReport] = []
    wd = LoopWatchdog(asyncio.get_running_loop(), reports.append)
    wd.start()
    try:
        for _ in range(30):  # ~1.5 s of a loop that only ever awaits
            await asyncio.sleep(0.05)
    finally:
        wd.stop()
    assert reports == [] and wd.stalls == 0


async def test_each_stall_is_reported_once_and_stop_ends_the_thread() -> None:
    reports: list[StallReport] = []
    wd = LoopWatchdog(asyncio.get_running_loop(), reports.append, threshold_s=0.2, beat_s=0.05)
    wd.start()
    assert len(watchdog_threads()) == 1
    for _ in range(2):
        block_the_loop(0.6)
        await asyncio.sleep(0.2)
    wd.stop()
    wd.stop()
    assert watchdog_threads() == []
    assert len(reports) == 2 and wd.stalls == 2
    assert all(r.blocked_s >= 0.55 for r in reports)
    assert wd.longest_s == max(r.blocked_s for r in reports)


async def test_a_failing_stall_handler_does_not_break_the_loop() -> None:
    def explode(report: StallReport) -> None:
        raise RuntimeError("metrics backend down")

    wd = LoopWatchdog(asyncio.get_running_loop(), explode, threshold_s=0.2, beat_s=0.05)
    with capture_logs() as logs:
        wd.start()
        try:
            block_the_loop(0.5)
            await asyncio.sleep(0.1)
            await asyncio.wait_for(asyncio.sleep(0.05), 1.0)  # the loop still turns
        finally:
            wd.stop()
    assert wd.stalls == 1
    assert any(e["event"] == "stall handler failed" for e in logs)


def test_an_idle_loop_is_not_a_stall_and_stop_is_safe_after_close() -> None:
    reports: list[StallReport] = []
    loop = asyncio.new_event_loop()
    wd = LoopWatchdog(loop, reports.append, threshold_s=0.1, beat_s=0.02)
    wd.stop()  # never started: nothing to do
    wd.start()
    time.sleep(0.3)  # between run_until_complete calls the loop is idle, not blocked
    loop.run_until_complete(asyncio.sleep(0.05))
    loop.close()
    wd.stop()
    assert reports == [] and watchdog_threads() == []


def test_instance_is_read_from_the_task_name() -> None:
    assert instance_of("host:cam1") == "cam1"
    assert instance_of("cam1:poll") == "cam1"
    assert instance_of("Task-7") is None
    assert instance_of(None) is None
