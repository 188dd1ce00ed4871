"""The host side of an isolated plugin's context: its requests, served with the real context.

Everything the child asks for goes through the instance's own :class:`PluginContext`, so kind
checks, counters, unknown-source handling, the durable journal commit and cursor ownership are
exactly those of an inline plugin; the child only ever holds copies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from gateway.host.process.codec import filter_from_wire, record_to_wire
from gateway.host.process.errors import IsolatedPluginError
from gateway.host.process.remote import HOST_COUNTED
from gateway.host.process.remote_journal import APPENDABLE
from gateway.journal import Consumer
from gateway.model.command import Command
from gateway.model.event import Event
from gateway.sdk.context import PluginContext


class ChildService:
    """Answers one child's requests and notifications; one per process (per start)."""

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx
        self._consumers: dict[int, Consumer | Exception] = {}
        self._ops: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "publish": self._publish,
            "report_clock": self._report_clock,
            "heard": self._heard,
            "site_view": self._site_view,
            "dispatch": self._dispatch,
            "upsert_device": self._upsert_device,
            "upsert_point": self._upsert_point,
            "upsert_area": self._upsert_area,
            "supervise": self._supervise,
            "subscribe": self._subscribe,
            "next_batch": self._next_batch,
            "commit": self._commit,
            "close_consumer": self._close_consumer,
            "failed": self._failed,
            "append": self._append,
            "status": self._status,
        }
        self.health: dict[str, Any] | None = None
        """The child's latest ``health()``, what the host shows for the instance."""

    async def handle(self, op: str, params: dict[str, Any]) -> Any:
        serve = self._ops.get(op)
        if serve is None:
            raise ValueError(f"unknown request {op!r} from the isolated plugin")
        return await serve(params)

    def owned_devices(self) -> list[dict[str, Any]]:
        """This instance's devices as the registry has them, for the child's ``get_device``."""
        return [
            d.model_dump(mode="json")
            for d in self._ctx.registry.devices.values()
            if d.plugin == self._ctx.instance_id
        ]

    def site_areas(self) -> list[dict[str, Any]]:
        """The site's areas, so area commands find their partition (its panel may be new)."""
        return [a.model_dump(mode="json") for a in self._ctx.registry.areas.values()]

    # -- events, clocks, commands --------------------------------------------------------------

    async def _publish(self, p: dict[str, Any]) -> int:
        return await self._ctx.publish(Event.model_validate(p["event"]))

    async def _report_clock(self, p: dict[str, Any]) -> float:
        return await self._ctx.report_clock(p["device"], datetime.fromisoformat(p["time"]))

    async def _heard(self, p: dict[str, Any]) -> None:
        await self._ctx.registry.heard(p["address"])

    async def _site_view(self, p: dict[str, Any]) -> dict[str, Any]:
        view = await self._ctx.registry.site_view()
        return {
            "devices": [d.model_dump(mode="json") for d in view.devices.values()],
            "areas": [a.model_dump(mode="json") for a in view.areas.values()],
            "points": [pt.model_dump(mode="json") for pt in view.points.values()],
        }

    async def _dispatch(self, p: dict[str, Any]) -> Any:
        result = await self._ctx.dispatch(Command.model_validate(p["command"]))
        return result.model_dump(mode="json")

    # -- registry (notifications: they take effect before any later request) --------------------

    async def _upsert_device(self, p: dict[str, Any]) -> None:
        self._ctx.registry.upsert_device(
            p["address"], kind=p["kind"], plugin=p["plugin"], **p["fields"]
        )

    async def _upsert_point(self, p: dict[str, Any]) -> None:
        self._ctx.registry.upsert_point(p["address"], kind=p["kind"], **p["fields"])

    async def _upsert_area(self, p: dict[str, Any]) -> None:
        self._ctx.registry.upsert_area(
            p["name"], device=p["device"], local_id=p["local_id"], title=p["title"]
        )

    async def _supervise(self, p: dict[str, Any]) -> None:
        self._ctx.registry.supervise(p["address"], p["interval_s"])

    # -- journal consumers ---------------------------------------------------------------------

    async def _subscribe(self, p: dict[str, Any]) -> None:
        """A notification, as ``subscribe`` is synchronous; an error waits for ``next_batch``."""
        try:
            consumer: Consumer | Exception = self._ctx.subscribe(
                filter_from_wire(p["filter"]),
                p["cursor"],
                new_cursor_start="head" if p.get("start") == "head" else "beginning",
            )
        except Exception as exc:
            consumer = exc
        self._consumers[p["consumer"]] = consumer

    def _consumer(self, cid: int) -> Consumer:
        consumer = self._consumers.get(cid)
        if consumer is None:
            raise KeyError(f"no consumer {cid} (closed, or never subscribed)")
        if isinstance(consumer, Exception):
            raise consumer
        return consumer

    async def _next_batch(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = p["consumer"]
        consumer = self._consumer(cid)
        records = await consumer.next_batch(p["limit"], p["timeout"])
        closed = not records and (cid not in self._consumers or self._ctx.journal.closed)
        return {
            "records": [record_to_wire(r) for r in records],
            "position": consumer.position,
            "committed": consumer.committed,
            "closed": closed,
        }

    async def _commit(self, p: dict[str, Any]) -> None:
        consumer = self._consumers.get(p["consumer"])
        if isinstance(consumer, Consumer):  # a failed subscribe is reported by next_batch
            consumer.commit(p["seq"])

    async def _close_consumer(self, p: dict[str, Any]) -> None:
        consumer = self._consumers.pop(p["consumer"], None)
        if isinstance(consumer, Consumer):
            consumer.close()

    async def _append(self, p: dict[str, Any]) -> int:
        """A command or result the plugin puts on record itself (the MQTT connector's refusals)."""
        model = APPENDABLE.get(p["type"])
        if model is None:
            raise ValueError(
                f"an isolated plugin may append {sorted(APPENDABLE)}, not {p['type']!r}"
            )
        return await self._ctx.journal.append(model.model_validate(p["record"]))

    # -- what the host shows -------------------------------------------------------------------

    async def _status(self, p: dict[str, Any]) -> None:
        """The child's own counters (absolute, since its start) and its health."""
        for name, value in p["counters"].items():
            if name not in HOST_COUNTED:
                self._ctx.counters[name] = int(value)
        health = p.get("health")
        self.health = health if isinstance(health, dict) else None

    # -- failures ------------------------------------------------------------------------------

    async def _failed(self, p: dict[str, Any]) -> None:
        """A task in the child raised: fail the instance with the child's error and traceback."""
        error = IsolatedPluginError(p["error"])
        if p.get("traceback"):
            error.add_note(f"in the isolated plugin process:\n{p['traceback']}")
        raise error
