"""The line scheduler: one loop per connection, polling its devices' blocks when due.

Requests on one connection (a TCP socket, a serial line) go one at a time, so a device that
does not answer costs the others its timeout. The scheduler bounds that cost: a device that
times out is marked offline and only *probed* again every ``probe_interval_s`` (one request,
one timeout), while the other devices keep their intervals. Every error is counted and the
loop goes on: an exception response, a garbled answer or a bug in a sink never ends polling.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from plugins.modbus.adapter import DeviceException, LinkDown, LinkError, ModbusLink, NoResponse
from plugins.modbus.mapping import DeviceTracker
from plugins.modbus.planner import Block, plan_blocks, split_block
from plugins.modbus.profile import Profile

ILLEGAL_DATA_ADDRESS = 0x02
log = structlog.get_logger("anfang.plugin.modbus")

SILENT_KINDS = frozenset({"no_response", "link_error", "link_down"})
"""Failures that mean nobody answered: counted, and logged once as the device going offline,
not once per block. A unit that answers badly (exception, garbled, wrong unit) is logged."""


@dataclass(eq=False)
class Job:
    device: DeviceRuntime
    block: Block
    interval_s: float
    due: float = 0.0


@dataclass(eq=False)
class DeviceRuntime:
    """A polled device: its unit on the line, its profile, its jobs and whether it answers."""

    name: str
    address: str
    unit: int
    profile: Profile
    tracker: DeviceTracker
    online: bool | None = None
    next_probe: float = 0.0
    last_error: str | None = None
    jobs: list[Job] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    troubles: dict[str, str] = field(default_factory=dict)
    """What is wrong now, by where (a block, the link): logged when it starts or changes and
    when it ends, not on every poll."""

    def trouble(self, where: str, problem: str | None) -> None:
        """Note the state of ``where`` (None: fine); log a change of it."""
        before = self.troubles.get(where)
        if problem == before:
            return
        if problem is None:
            del self.troubles[where]
            log.info("modbus values good again", device=self.address, where=where)
            return
        self.troubles[where] = problem
        log.warning(
            "modbus device answered badly", device=self.address, where=where, problem=problem
        )

    def plan(self) -> None:
        """One job per block, blocks planned per polling interval."""
        by_interval: dict[float, list[str]] = {}
        for name, point in self.profile.points.items():
            by_interval.setdefault(self.profile.interval(point), []).append(name)
        self.jobs = [
            Job(self, block, interval)
            for interval, names in sorted(by_interval.items())
            for block in plan_blocks(self.profile, names)
        ]

    @property
    def requests_per_cycle(self) -> int:
        return len(self.jobs)


Sink = Callable[[DeviceRuntime, Block, list[int]], None]
StateHook = Callable[[DeviceRuntime, bool, str], None]


class Line:
    def __init__(
        self,
        name: str,
        link: ModbusLink,
        devices: list[DeviceRuntime],
        *,
        sink: Sink,
        on_state: StateHook,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        probe_interval_s: float = 10.0,
        pacing_s: float = 0.0,
    ) -> None:
        self.name = name
        self.link = link
        self.devices = devices
        self.sink = sink
        self.on_state = on_state
        self.monotonic = monotonic
        self.sleep = sleep
        self.probe_interval_s = probe_interval_s
        self.pacing_s = pacing_s
        self.counters: Counter[str] = Counter()
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()

    def _push(self, job: Job) -> None:
        heapq.heappush(self._heap, (job.due, next(self._order), job))

    async def run(self) -> None:
        now = self.monotonic()
        for device in self.devices:
            if not device.jobs:
                device.plan()
            for job in device.jobs:
                job.due = now
                self._push(job)
        me = asyncio.current_task()
        while True:
            if me is not None and me.cancelling():
                # asyncio.wait_for inside pymodbus can swallow a cancel that lands as the
                # answer arrives (CPython gh-86296); without this the line would poll on.
                raise asyncio.CancelledError
            if not self.link.connected and not await self._connect():
                await self.sleep(self.probe_interval_s)
                continue
            due, _, job = self._heap[0]
            now = self.monotonic()
            if due > now:
                await self.sleep(due - now)
                continue
            heapq.heappop(self._heap)
            device = job.device
            if device.online is False and now < device.next_probe:
                job.due = device.next_probe
                self._push(job)
                continue
            await self._poll(job)
            if self.pacing_s:
                await self.sleep(self.pacing_s)

    async def _connect(self) -> bool:
        self.counters["connects"] += 1
        if await self.link.connect():
            return True
        self.counters["connect_failures"] += 1
        reason = f"cannot connect to {self.link.endpoint.describe()}"
        for device in self.devices:
            self._offline(device, reason, self.monotonic())
        return False

    async def _poll(self, job: Job) -> None:
        device, block = job.device, job.block
        self.counters["requests"] += 1
        device.counters["requests"] += 1
        try:
            words = await self.link.read(device.unit, block.table, block.start, block.count)
        except NoResponse as exc:
            self._failed(job, exc)
            self._offline(device, str(exc), self.monotonic())
            return
        except DeviceException as exc:
            self._failed(job, exc)
            self._online(device)
            if exc.code == ILLEGAL_DATA_ADDRESS and len(block.points) > 1:
                self._split(job)
            return
        except LinkDown as exc:
            self._failed(job, exc)
            self.link.close()
            return
        except LinkError as exc:
            self._failed(job, exc)
            return
        except Exception as exc:  # a bug must not end polling for good: count, log, go on
            self._failed(job, exc, kind="internal_error")
            log.exception("poll failed", line=self.name, device=device.address)
            return
        self._online(device)
        self._reschedule(job)
        try:
            self.sink(device, block, words)
        except Exception:
            self.counters["sink_errors"] += 1
            log.exception("handling a reading failed", line=self.name, device=device.address)

    def _failed(self, job: Job, exc: Exception, kind: str | None = None) -> None:
        kind = kind or str(getattr(exc, "kind", "link_error"))
        self.counters[kind] += 1
        job.device.counters[kind] += 1
        job.device.last_error = str(exc)
        if kind not in SILENT_KINDS:  # a unit that does not answer: its offline state is logged
            job.device.trouble(job.block.describe(), f"{kind}: {exc}")
        self._reschedule(job)

    def _reschedule(self, job: Job) -> None:
        now = self.monotonic()
        job.due = max(job.due + job.interval_s, now)
        self._push(job)

    def _split(self, job: Job) -> None:
        """The device refused a coalesced read: poll its points in smaller reads from now on."""
        device = job.device
        self._heap = [entry for entry in self._heap if entry[2] is not job]
        heapq.heapify(self._heap)
        parts = [
            Job(device, b, job.interval_s, job.due) for b in split_block(device.profile, job.block)
        ]
        device.jobs = [j for j in device.jobs if j is not job] + parts
        device.counters["blocks_split"] += 1
        for part in parts:
            self._push(part)

    def _online(self, device: DeviceRuntime) -> None:
        if device.online is not True:
            device.online = True
            device.last_error = None
            self.on_state(device, True, "answering")

    def _offline(self, device: DeviceRuntime, reason: str, now: float) -> None:
        device.next_probe = now + self.probe_interval_s
        if device.online is not False:
            device.online = False
            self.counters["devices_marked_offline"] += 1
            self.on_state(device, False, reason)
