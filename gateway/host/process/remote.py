"""The child's stand-in for PluginContext: the same API, carried out by the host over the socket.

A plugin cannot tell it runs isolated. Whatever must be decided once for the whole gateway
(kind checks at publish, the journal, the registry, cursors, commands) is a request to the host;
what is the plugin's own (building events, its tasks, its key-value state, its clock) is local.
Registry upserts are notifications, answered locally, and reach the host before any later
request, so a device is registered before the event that follows it is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import pydantic_core
import structlog

from gateway.host.process.codec import filter_to_wire, record_from_wire
from gateway.host.process.rpc import Endpoint, PeerGoneError, RemoteError
from gateway.journal import CursorInUseError, Filter, JournalRecord, JournalWriteError
from gateway.journal.consumer import READ_BATCH
from gateway.journal.errors import JournalClosedError
from gateway.model.address import Address
from gateway.model.command import Command, CommandResult
from gateway.model.entities import Area, Device, Point
from gateway.model.event import Event
from gateway.model.kinds import KindRegistry
from gateway.registry.registry import number_key
from gateway.registry.statedb import StateStore
from gateway.sdk.clock import Clock, SystemClock
from gateway.sdk.context import ContextBase, PublishError
from gateway.sdk.site_view import SiteView

if TYPE_CHECKING:
    from gateway.host.process.remote_journal import RemoteJournal

REMOTE_BATCH = 128
"""Records per answer: keeps a frame far below the wire's 16 MiB limit."""

_RAISED_AS: dict[str, Callable[[str], Exception]] = {
    "PublishError": PublishError,
    "JournalWriteError": JournalWriteError,
    "JournalClosedError": JournalClosedError,
    "CursorInUseError": CursorInUseError,
    "KeyError": KeyError,
    "ValueError": ValueError,
    "TypeError": TypeError,
    "TimeoutError": TimeoutError,
}


def local_error(exc: RemoteError) -> Exception:
    """What the host raised, as the exception an inline plugin would have seen where possible."""
    make = _RAISED_AS.get(exc.type_name)
    return exc if make is None else make(str(exc.args[0]))


async def call(link: Endpoint, op: str, **params: Any) -> Any:
    try:
        return await link.request(op, **params)
    except RemoteError as exc:
        raise local_error(exc) from None


def _jsonable(fields: dict[str, Any]) -> Any:
    return pydantic_core.to_jsonable_python(fields)


class RemoteRegistry:
    """``ctx.registry`` in the child: upserts and supervision, and this instance's devices."""

    def __init__(self, link: Endpoint, site: str, devices: list[Device], areas: list[Area]) -> None:
        self._link = link
        self.site = site
        self.devices: dict[str, Device] = {d.address: d for d in devices}
        self.areas: dict[str, Area] = {a.address: a for a in areas}
        """The site's areas as the host had them at start, plus this instance's own upserts."""
        """This instance's devices: as the host had them at start, plus what it upserted since
        (the installer's pins and assigned GB codes of new devices are known to the host only)."""
        self.points: dict[str, Point] = {}

    def upsert_device(
        self, address: str, *, kind: str, plugin: str | None = None, **fields: Any
    ) -> Device:
        if Address.parse(address).point is not None:
            raise ValueError(f"{address} is a point address; use upsert_point")
        current = self.devices.get(address)
        device = Device.model_validate(_merge(current, address, kind, {**fields, "plugin": plugin}))
        self.devices[address] = device
        self._link.notify(
            "upsert_device", address=address, kind=kind, plugin=plugin, fields=_jsonable(fields)
        )
        return device

    def upsert_point(self, address: str, *, kind: str, **fields: Any) -> Point:
        if Address.parse(address).point is None:
            raise ValueError(f"{address} is a device address; use upsert_device")
        point = Point.model_validate(_merge(self.points.get(address), address, kind, fields))
        self.points[address] = point
        self._link.notify("upsert_point", address=address, kind=kind, fields=_jsonable(fields))
        return point

    def upsert_area(
        self,
        name: str,
        *,
        device: str | None = None,
        local_id: str | None = None,
        title: str | None = None,
    ) -> Area:
        area = Area(site=self.site, name=name, device=device, local_id=local_id, title=title)
        self.areas[area.address] = area
        self._link.notify("upsert_area", name=name, device=device, local_id=local_id, title=title)
        return area

    def get_device(self, address: str) -> Device | None:
        return self.devices.get(address)

    def area_of(self, source: str, area_field: str | None = None) -> Area | None:
        """The area an event belongs to, as the host's registry judges it from the areas this
        child knows (the site's at start and its own since): by the panel's own number for one
        of its areas, then by area name, else the source itself. Which area an installer
        assigned a point to is known to the host only: that lookup answers None here."""
        if area_field:
            device = "/".join(source.split("/")[:2])
            key = number_key(area_field)
            for area in self.areas.values():
                if (
                    area.device == device
                    and area.local_id is not None
                    and number_key(area.local_id) == key
                ):
                    return area
            named = self.areas.get(f"{self.site}/{area_field}")
            if named is not None and named.device in (None, device):
                return named
        return self.areas.get(source)

    async def site_view(self) -> SiteView:
        """The whole site as the host's registry has it now (a copy, fetched per call)."""
        raw = await call(self._link, "site_view")
        devices = [Device.model_validate(d) for d in raw["devices"]]
        areas = [Area.model_validate(a) for a in raw["areas"]]
        points = [Point.model_validate(p) for p in raw["points"]]
        return SiteView(
            devices={d.address: d for d in devices},
            areas={a.address: a for a in areas},
            points={p.address: p for p in points},
        )

    async def heard(self, address: str) -> None:
        """The device (or one of its points) spoke: the host's supervision, which journals a
        restore if it was offline, before this returns."""
        await call(self._link, "heard", address=address)

    async def report_clock(self, device: str, device_time: datetime) -> float:
        """What the device's clock says, to the host's registry; the offset in seconds."""
        return float(
            await call(self._link, "report_clock", device=device, time=device_time.isoformat())
        )

    def supervise(self, address: str, interval_s: float) -> None:
        device = self.devices.get(address)
        if device is None:
            raise KeyError(f"supervise: unknown device {address}; upsert it first")
        self.devices[address] = device.model_copy(update={"supervision_s": interval_s})
        self._link.notify("supervise", address=address, interval_s=interval_s)


def _merge(
    current: Device | Point | None, address: str, kind: str, fields: dict[str, Any]
) -> dict[str, Any]:
    data: dict[str, Any] = current.model_dump() if current else {"address": address}
    data.update({k: v for k, v in fields.items() if v is not None})
    data["kind"] = kind
    return data


class RemoteConsumer:
    """A journal consumer held by the host; reading and committing are requests to it."""

    def __init__(self, link: Endpoint, cid: int, flt: Filter, name: str | None) -> None:
        self._link = link
        self._cid = cid
        self.filter = flt
        self.name = name
        self.position = 0
        """Highest seq the host-side consumer examined, as of the last batch."""
        self.committed = 0
        self._buffer: deque[JournalRecord] = deque()
        self._closed = False
        self._inflight: asyncio.Future[Any] | None = None

    def __aiter__(self) -> RemoteConsumer:
        return self

    async def __anext__(self) -> JournalRecord:
        while not self._buffer:
            batch = await self.next_batch()
            if not batch and self._closed:
                raise StopAsyncIteration
            self._buffer.extend(batch)
        return self._buffer.popleft()

    async def next_batch(
        self, limit: int = READ_BATCH, timeout: float | None = None
    ) -> list[JournalRecord]:
        if limit < 1:
            raise ValueError(f"next_batch limit must be at least 1, got {limit}")
        if self._closed:
            return []
        # The host advances its consumer when it answers, so an answer must never be dropped:
        # a caller that gives up (wait_for timing out) leaves the request running, and the next
        # call collects its records instead of asking again.
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(
                call(
                    self._link,
                    "next_batch",
                    consumer=self._cid,
                    limit=min(limit, REMOTE_BATCH),
                    timeout=timeout,
                )
            )
        inflight = self._inflight
        answer = await asyncio.shield(inflight)
        self._inflight = None
        self.position = answer["position"]
        self.committed = max(self.committed, answer["committed"])
        if answer["closed"]:
            self._closed = True
        return [record_from_wire(r) for r in answer["records"]]

    def commit(self, seq: int) -> None:
        if seq > self.committed:
            self.committed = seq
            self._link.notify("commit", consumer=self._cid, seq=seq)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(PeerGoneError):
            self._link.notify("close_consumer", consumer=self._cid)


HOST_COUNTED = frozenset(
    {"events_published", "events_rejected", "unregistered_sources", "commands_sent"}
)
"""Counters the host's own context keeps for an isolated instance (it carries these out)."""


class RemoteContext(ContextBase):
    """Offers what :class:`~gateway.sdk.context.PluginContext` offers a plugin, from a child."""

    def __init__(
        self,
        *,
        link: Endpoint,
        instance_id: str,
        plugin_name: str,
        site: str,
        kinds: KindRegistry,
        state: StateStore,
        devices: list[Device],
        on_task_failed: Callable[[BaseException], None],
        areas: list[Area] | None = None,
        journal: RemoteJournal | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.plugin_name = plugin_name
        self.site = site
        self.kinds = kinds
        self.state = state
        self.clock: Clock = SystemClock()
        self.registry = RemoteRegistry(link, site, devices, areas or [])
        self.journal = journal
        """Reads of the journal's file, its head, command records appended by the host."""
        self.log = structlog.get_logger(f"anfang.plugin.{plugin_name}").bind(instance=instance_id)
        self.counters: Counter[str] = Counter()
        """Counted in the child; the host counts publishes, refusals and unknown sources too."""
        self._link = link
        self._tasks: set[asyncio.Task[Any]] = set()
        self._consumers: list[RemoteConsumer] = []
        self._consumer_ids = itertools.count(1)
        self._on_task_failed = on_task_failed
        self._last_status: dict[str, Any] | None = None

    # -- events --------------------------------------------------------------------------------

    async def publish(self, event: Event) -> int:
        """Journal an event in the host; returns its seq once it is durable.

        Raises PublishError when the host refuses it, JournalWriteError when it could not write.
        """
        try:
            seq = await call(self._link, "publish", event=event.model_dump(mode="json"))
        except PublishError:
            self.counters["events_rejected"] += 1
            raise
        self.counters["events_published"] += 1
        return int(seq)

    def subscribe(
        self,
        flt: Filter | None = None,
        cursor: str | None = None,
        *,
        new_cursor_start: Literal["beginning", "head"] = "beginning",
    ) -> RemoteConsumer:
        """Read the journal from a durable cursor (named per instance) or from now on."""
        cid = next(self._consumer_ids)
        self._link.notify(
            "subscribe",
            consumer=cid,
            filter=filter_to_wire(flt),
            cursor=cursor,
            start=new_cursor_start,
        )
        name = None if cursor is None else f"{self.instance_id}.{cursor}"
        consumer = RemoteConsumer(self._link, cid, flt or Filter(), name)
        self._consumers.append(consumer)
        return consumer

    async def report_clock(self, device: str, device_time: datetime) -> float:
        return await self.registry.report_clock(device, device_time)

    def status(self, health: dict[str, Any] | None) -> dict[str, Any] | None:
        """What the host should show for this instance, when it changed since last asked:
        the plugin's own counters (the host counts publishes itself) and its ``health()``."""
        own = {k: v for k, v in self.counters.items() if k not in HOST_COUNTED}
        status = {"counters": own, "health": health}
        if status == self._last_status:
            return None
        self._last_status = status
        wire: dict[str, Any] = pydantic_core.to_jsonable_python(status)
        return wire

    async def dispatch(self, command: Command) -> CommandResult:
        """Send a command to whichever instance owns its target (journaled by the host)."""
        self.counters["commands_sent"] += 1
        raw = await call(self._link, "dispatch", command=command.model_dump(mode="json"))
        return CommandResult.model_validate(raw)
