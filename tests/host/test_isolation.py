"""Process isolation: plugins in their own process, on a real gateway with a real journal."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway import event_loop
from gateway.config.loader import load_config
from gateway.event_loop import running_loop_name
from gateway.host import Gateway, InstanceState
from gateway.host.process import IsolatedPlugin, IsolatedPluginError, isolated_plugin_class
from gateway.host.process.codec import (
    config_to_wire,
    filter_from_wire,
    filter_to_wire,
    kinds_from_wire,
    kinds_to_wire,
)
from gateway.host.process.errors import describe_exit
from gateway.host.process.proxy import child_environment
from gateway.host.process.rpc import Endpoint, PeerGoneError, RemoteError
from gateway.host.process.wire import FrameDecoder, FrameError, encode
from gateway.journal import Filter, JournalReader
from gateway.model.command import Command, ResultStatus
from gateway.model.event import Event
from gateway.model.kinds import KindRegistry
from gateway.sdk.discovery import discover
from gateway.sdk.plugin import Plugin
from tests.conftest import PYTHON
from tests.host.isolated_plugins import (
    CrashyPlugin,
    EchoConfig,
    EchoPlugin,
    ImpatientListenerPlugin,
    LedgerPlugin,
    ListenerPlugin,
    RoguePlugin,
    StuckPlugin,
)
from tests.host.plugins import TickPlugin

# -- framing -------------------------------------------------------------------------------------


def test_frames_survive_arbitrary_splits() -> None:
    messages = [{"id": n, "op": "publish", "text": "é" * n} for n in range(5)]
    stream = b"".join(encode(m) for m in messages)
    for chunk in (1, 3, 7, len(stream)):
        decoder = FrameDecoder()
        got = []
        for i in range(0, len(stream), chunk):
            got.extend(decoder.feed(stream[i : i + chunk]))
        assert got == messages
        assert decoder.pending == 0


def test_a_partial_frame_is_held_back() -> None:
    frame = encode({"op": "x"})
    decoder = FrameDecoder()
    assert decoder.feed(frame[:-1]) == []
    assert decoder.pending == len(frame) - 1
    assert decoder.feed(frame[-1:]) == [{"op": "x"}]


def test_oversize_frames_are_refused_both_ways() -> None:
    with pytest.raises(FrameError, match="exceeds the 10-byte limit"):
        encode({"text": "x" * 20}, max_frame=10)
    decoder = FrameDecoder(max_frame=10)
    with pytest.raises(FrameError, match="exceeds"):  # refused from the header alone
        decoder.feed((1 << 30).to_bytes(4, "big") + b"{")


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"{nope", "not UTF-8 JSON"), (b"\xff\xfe", "not UTF-8 JSON"), (b"[1, 2]", "not an object")],
)
def test_malformed_frames_are_errors(body: bytes, problem: str) -> None:
    with pytest.raises(FrameError, match=problem):
        FrameDecoder().feed(len(body).to_bytes(4, "big") + body)


def test_unserialisable_messages_are_refused() -> None:
    with pytest.raises(FrameError, match="not JSON"):
        encode({"x": object()})


# -- what crosses besides events -----------------------------------------------------------------


def test_kinds_filters_and_secret_config_round_trip() -> None:
    kinds = discover(extra=[TickPlugin]).kinds
    again = kinds_from_wire(kinds_to_wire(kinds))
    assert list(again) == list(kinds) and isinstance(again, KindRegistry)
    flt = Filter.build(kinds=["test"], sources=["hq/*"], phases=["alarm"], max_priority=2)
    assert filter_from_wire(filter_to_wire(flt)) == flt
    assert filter_from_wire(filter_to_wire(None)) is None
    wired = config_to_wire(EchoConfig.model_validate({"token": "s3cret"}))
    assert EchoConfig.model_validate(wired).token.get_secret_value() == "s3cret"


def test_the_isolated_class_declares_what_the_plugin_declares(tmp_path: Path) -> None:
    cls = isolated_plugin_class(EchoPlugin, tmp_path)
    assert issubclass(cls, IsolatedPlugin) and cls.__name__ == "IsolatedEchoPlugin"
    for attribute in Plugin.__annotations__:
        assert getattr(cls, attribute) == getattr(EchoPlugin, attribute), attribute


def test_exits_are_described_for_people() -> None:
    assert describe_exit(-signal.SIGABRT) == "died (SIGABRT)"
    assert describe_exit(1) == "exited with code 1"


# -- the RPC endpoint ----------------------------------------------------------------------------


async def _endpoints(
    left: Callable[[str, dict[str, Any]], Any], right: Callable[[str, dict[str, Any]], Any]
) -> tuple[Endpoint, Endpoint, list[asyncio.Task[None]]]:
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_unix_connection(sock=a)
    rb, wb = await asyncio.open_unix_connection(sock=b)
    ea, eb = Endpoint(ra, wa, left, name="a"), Endpoint(rb, wb, right, name="b")
    return ea, eb, [asyncio.create_task(ea.run()), asyncio.create_task(eb.run())]


async def test_rpc_concurrent_requests_both_ways_and_ordered_notifications() -> None:
    seen: list[str] = []

    async def left(op: str, p: dict[str, Any]) -> Any:
        if op == "note":
            seen.append(p["text"])
            return None
        if op == "slow":
            await asyncio.sleep(0.05)
        if op == "boom":
            raise ValueError("no such zone")
        return {"op": op, "seen": list(seen)}

    async def right(op: str, p: dict[str, Any]) -> Any:
        answer = await eb.request("fast")  # b asks a while it serves a's request
        return f"{op}: {answer['op']}"

    ea, eb, runs = await _endpoints(left, right)
    eb.notify("note", text="registered")
    slow, fast = await asyncio.gather(eb.request("slow"), eb.request("fast"))
    assert fast["seen"] == ["registered"], "a notification lands before the request after it"
    assert slow["op"] == "slow"
    assert await ea.request("relay") == "relay: fast"
    with pytest.raises(RemoteError, match="ValueError: no such zone") as info:
        await eb.request("boom")
    assert info.value.type_name == "ValueError" and "Traceback" in info.value.remote_traceback
    await ea.close()
    await asyncio.gather(*runs)
    assert eb.closed
    with pytest.raises(PeerGoneError):
        await eb.request("fast")
    await eb.close()


async def test_rpc_pending_requests_fail_when_the_peer_goes() -> None:
    async def never(op: str, p: dict[str, Any]) -> Any:
        await asyncio.Event().wait()

    ea, eb, runs = await _endpoints(never, never)
    pending = asyncio.create_task(eb.request("hang"))
    await asyncio.sleep(0.02)
    await ea.close()
    with pytest.raises(PeerGoneError):
        await pending
    await asyncio.gather(*runs)
    await eb.close()


# -- the child process on its own ----------------------------------------------------------------


def test_the_child_exits_when_its_host_goes() -> None:
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [PYTHON, "-m", "gateway.host.process.child", "--fd", str(theirs.fileno())],
        pass_fds=(theirs.fileno(),),
        env=child_environment(),
        stderr=subprocess.DEVNULL,
    )
    theirs.close()
    ours.close()
    assert proc.wait(timeout=10) == 3


# -- on a real gateway ---------------------------------------------------------------------------


def make_gateway(tmp_path: Path, plugins_yaml: str) -> Gateway:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\nareas: [{name: vault, device: hq/echo-1, local_id: '7'}]\n"
        f"plugins:\n{plugins_yaml}"
    )
    installed = discover(
        extra=[
            TickPlugin,
            CrashyPlugin,
            EchoPlugin,
            RoguePlugin,
            ListenerPlugin,
            StuckPlugin,
            ImpatientListenerPlugin,
            LedgerPlugin,
        ]
    )
    loaded = load_config(cfg, installed.classes)
    return Gateway(loaded, installed, data_dir=tmp_path / "data", backoff_initial_s=0.05)


async def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)


def proxy(gw: Gateway, instance: str) -> IsolatedPlugin:
    plugin = gw.runners[instance].plugin
    assert isinstance(plugin, IsolatedPlugin)
    return plugin


def gone(pid: int) -> bool:
    """No such process, not even a zombie waiting to be reaped."""
    return not Path(f"/proc/{pid}").exists()


async def test_an_aborting_child_is_restarted_while_the_host_keeps_going(tmp_path: Path) -> None:
    gw = make_gateway(
        tmp_path,
        "  - {id: steady, plugin: tick, config: {period_s: 0.01}}\n"
        "  - {id: osdp, plugin: crashy, isolation: process, config: {abort_after: 5}}\n",
    )
    await gw.start()
    runner = gw.runners["osdp"]
    try:
        await wait_for(lambda: runner.status.state is InstanceState.RUNNING)
        first_pid = proxy(gw, "osdp").process_id
        assert first_pid is not None and first_pid != os.getpid()
        await wait_for(
            lambda: runner.status.restarts >= 1 and runner.status.state is InstanceState.RUNNING
        )
        assert "died (SIGABRT)" in (runner.status.last_error or "")
        second_pid = proxy(gw, "osdp").process_id
        assert second_pid != first_pid and first_pid is not None and gone(first_pid)
        faults = Filter.build(kinds=["plugin.fault"], sources=["hq/osdp"])
        await wait_for(lambda: len(gw.journal.reader.query(faults)) >= 2)
        from_second = Filter.build(kinds=["test.periodic"], sources=["hq/crashy-osdp"])
        await wait_for(  # the restarted child publishes too
            lambda: any(
                r.event.data.get("pid") == second_pid
                for r in gw.journal.reader.query(from_second, limit=10_000)
            )
        )
    finally:
        await gw.stop()
    assert gw.runners["steady"].status.restarts == 0

    reader = JournalReader.open(tmp_path / "data")
    fault, restore = reader.query(faults)[:2]
    ticks = reader.query(
        Filter.build(kinds=["test.periodic"], sources=["hq/tick-steady"]), limit=10_000
    )
    published = reader.query(
        Filter.build(kinds=["test.periodic"], sources=["hq/crashy-osdp"]), limit=10_000
    )
    reader.close()
    assert fault.phase == "alarm" and "SIGABRT" in (fault.event.text or "")
    assert restore.phase == "restore"
    gaps = [(b.ts_us - a.ts_us) / 1e6 for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 50 and max(gaps) < 0.5, "the inline instance was held up"
    pids = {r.event.data["pid"] for r in published}
    assert pids == {first_pid, second_pid}, "both children published into the host's journal"
    assert all(r.event.plugin == "osdp" and r.event.priority == 4 for r in published)
    device = gw.registry.get_device("hq/crashy-osdp")
    assert device is not None and device.plugin == "osdp" and device.supervision_s == 30.0
    assert not device.unknown, "the upsert reached the host before the first publish"
    assert device.clock_offset_s is not None and abs(device.clock_offset_s) < 5


async def test_commands_round_trip_to_the_child(tmp_path: Path) -> None:
    gw = make_gateway(
        tmp_path,
        "  - {id: relay, plugin: echo, isolation: process, config: {token: s3cret}}\n",
    )
    await gw.start()
    try:
        runner = gw.runners["relay"]
        await wait_for(lambda: runner.status.state is InstanceState.RUNNING)
        plugin = proxy(gw, "relay")
        assert runner.plugin_cls.name == "echo"
        armed = await gw.dispatch(Command(target="hq/vault", action="area.arm", issued_by="test"))
        assert armed.status is ResultStatus.OK and armed.data["partition"] == "7", armed.detail
        command = Command(target="hq/echo-1", action="test.echo", params={"n": 7}, issued_by="test")
        result = await plugin.execute(command)
        assert result.status is ResultStatus.OK and result.command_id == command.id
        assert result.data == {
            "pid": plugin.process_id,
            "params": {"n": 7},
            "token": "s3cret",
            "event_loop": running_loop_name(),  # the host's
        }
        with pytest.raises(IsolatedPluginError, match="OSError: bus error"):
            await plugin.execute(command.model_copy(update={"params": {"raise": True}}))
        assert runner.status.restarts == 0, "a raising execute does not fail the instance"
    finally:
        await gw.stop()
    after = await plugin.execute(command)
    assert after.status is ResultStatus.FAILED and "not running" in after.detail


def test_a_host_on_uvloop_starts_its_children_on_uvloop(tmp_path: Path) -> None:
    """The child runs on the host's loop: an isolated receiver measured like an inline one."""

    async def scenario() -> Any:
        gw = make_gateway(tmp_path, "  - {id: relay, plugin: echo, isolation: process}\n")
        await gw.start()
        try:
            await wait_for(lambda: gw.runners["relay"].status.state is InstanceState.RUNNING)
            command = Command(target="hq/echo-1", action="test.echo", issued_by="test")
            result = await proxy(gw, "relay").execute(command)
            return running_loop_name(), result.data["event_loop"]
        finally:
            await gw.stop()

    assert event_loop.run(scenario(), "uvloop") == ("uvloop", "uvloop")


async def test_the_child_reads_the_journal_puts_commands_on_record_and_reports_its_status(
    tmp_path: Path,
) -> None:
    """``ctx.journal`` in a child: the head and a read of the host's journal file, a command and
    its refusal appended through the host (events must go through publish); the plugin's own
    counters and ``health()`` reach the host's metrics and instance list. Before, a child had
    no ``ctx.journal`` (connectors and receivers quietly did less) and both stayed in it."""
    gw = make_gateway(tmp_path, "  - {id: book, plugin: ledger, isolation: process}\n")
    await gw.start()
    try:
        runner = gw.runners["book"]
        await wait_for(lambda: runner.status.state is InstanceState.RUNNING)
        before = gw.journal.committed_seq
        result = await gw.dispatch(
            Command(target="hq/ledger-1", action="test.ledger", issued_by="test")
        )
        assert result.status is ResultStatus.OK, result.detail
        seq, hash_hex = result.data["head"]
        assert seq >= before and gw.journal.reader.get(seq).hash.hex() == hash_hex
        assert result.data["committed_seq"] == result.data["appended"][-1], "reads its writes"
        assert result.data["first_kind"] == gw.journal.reader.get(1).kind
        refused, answer = (gw.journal.reader.get(s) for s in result.data["appended"])
        assert refused is not None and refused.kind == "test.refused"
        assert answer is not None and answer.model.status is ResultStatus.DENIED
        assert "ctx.publish" in result.data["event_append"]
        await wait_for(lambda: runner.counters()[0]["ledger_calls"] == 1, 10)
        await wait_for(lambda: proxy(gw, "book").health() == {"calls": 1}, 10)
    finally:
        await gw.stop()


async def test_stop_reaps_the_child_and_leaks_no_descriptors(tmp_path: Path) -> None:
    # The journal writer's forkserver (and its resource tracker) are started once per process
    # and kept for later writers, and uvloop opens /dev/null with the first socket it wraps and
    # keeps it as long as the loop (a spare for running out of descriptors): not descriptors a
    # gateway's stop should give back. A first gateway started and stopped makes them all; the
    # second must give back everything it opened.
    await start_and_stop_a_listener(tmp_path / "first")
    fds_before = len(os.listdir("/proc/self/fd"))
    data = await start_and_stop_a_listener(tmp_path / "second")
    assert len(os.listdir("/proc/self/fd")) == fds_before
    reader = JournalReader.open(data)
    cursors = reader.cursors()
    reader.close()
    assert cursors.get("listen.seen", 0) > 0, "the child's commits reached the durable cursor"


async def start_and_stop_a_listener(home: Path) -> Path:
    """A gateway with an isolated listener, started and stopped; its data directory."""
    home.mkdir()
    gw = make_gateway(
        home,
        "  - {id: steady, plugin: tick, config: {period_s: 0.01}}\n"
        "  - {id: listen, plugin: listener, isolation: process}\n",
    )
    await gw.start()
    runner = gw.runners["listen"]
    await wait_for(lambda: (gw.statedb.get("plugin:listen", "count") or 0) >= 5)
    plugin = proxy(gw, "listen")
    pid = plugin.process_id
    assert pid is not None
    await gw.stop()
    assert plugin.process is not None and plugin.process.returncode == 0
    assert gone(pid)
    assert runner.status.restarts == 0
    return home / "data"


async def test_a_child_that_will_not_stop_is_killed_and_reaped(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, "  - {id: wedged, plugin: stuck, isolation: process}\n")
    await gw.start()
    runner = gw.runners["wedged"]
    await wait_for(lambda: runner.status.state is InstanceState.RUNNING)
    plugin = proxy(gw, "wedged")
    type(plugin).stop_timeout_s = 0.3  # the generated class is this instance's own
    type(plugin).exit_timeout_s = 0.3
    started = time.monotonic()
    await gw.stop()
    assert time.monotonic() - started < 6  # 0.3 s + 0.3 s here; the defaults would take 7 s
    assert plugin.process is not None and plugin.process.returncode == -signal.SIGKILL
    assert plugin.process_id is not None and gone(plugin.process_id)


async def test_a_child_failing_in_start_backs_off_with_its_error(tmp_path: Path) -> None:
    gw = make_gateway(
        tmp_path,
        "  - {id: broken, plugin: crashy, isolation: process, config: {fail_in_start: true}}\n",
    )
    await gw.start()
    runner = gw.runners["broken"]
    try:
        await wait_for(lambda: runner.status.restarts >= 2)
        assert runner.status.last_error == (
            "IsolatedPluginError: RuntimeError: cannot open /dev/ttyUSB0"
        )
    finally:
        await gw.stop()
    faults = Filter.build(kinds=["plugin.fault"], sources=["hq/broken"])
    reader = JournalReader.open(tmp_path / "data")
    (fault,) = reader.query(faults)
    reader.close()
    assert "cannot open /dev/ttyUSB0" in fault.event.data["traceback"]


async def test_an_event_the_host_refuses_fails_the_child_task(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, "  - {id: rogue, plugin: rogue, isolation: process}\n")
    await gw.start()
    runner = gw.runners["rogue"]
    try:
        await wait_for(lambda: runner.status.restarts >= 1)
        error = runner.status.last_error or ""
        assert error.startswith("IsolatedPluginError: PublishError: kind 'nosuch.kind'"), error
    finally:
        await gw.stop()
    reader = JournalReader.open(tmp_path / "data")
    assert reader.query(Filter.build(kinds=["nosuch"])) == []
    (fault,) = reader.query(Filter.build(kinds=["plugin.fault"]))[:1]
    reader.close()
    assert "in the isolated plugin process" in fault.event.data["traceback"]


async def test_a_consumer_polled_with_timeouts_in_a_child_loses_nothing(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, "  - {id: fwd, plugin: impatient, isolation: process}\n")
    await gw.start()
    try:
        runner = gw.runners["fwd"]
        await wait_for(lambda: runner.status.state is InstanceState.RUNNING)
        await asyncio.sleep(0.3)  # several abandoned polls are in flight by now
        published = []
        for _ in range(5):
            event = Event(kind="test.manual", phase="momentary", priority=4, source="hq/gateway")
            published.append(await gw.journal.append(event))
            await asyncio.sleep(0.12)
        await wait_for(lambda: len(gw.statedb.get("plugin:fwd", "seqs") or []) >= 5)
        assert gw.statedb.get("plugin:fwd", "seqs") == published
    finally:
        await gw.stop()
