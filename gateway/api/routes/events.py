"""Events: query with filters and ``seq`` pagination, one by id, and the live stream.

The stream (Server-Sent Events or WebSocket) is a journal consumer starting after a given
``seq`` — ``Last-Event-ID`` for SSE, ``after`` for both — so a client that reconnects resumes
with no gap. A client that falls behind reads the database instead of the in-memory tail; it
never slows the writer or other clients.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import StreamingResponse

from gateway.api.paging import next_after, refuse_beyond_head
from gateway.api.security import require, require_ws
from gateway.api.stream import event_json, lagging, pace, sse_message, ws_batch, ws_message
from gateway.auth import Principal, Role
from gateway.journal import Filter
from gateway.model.kinds import Phase

router = APIRouter()

MAX_PAGE = 1000
KEEPALIVE_S = 15.0


class EventQuery:
    """The filters every event endpoint takes."""

    def __init__(
        self,
        kind: Annotated[list[str] | None, Query(description="kind or kind prefix")] = None,
        source: Annotated[list[str] | None, Query(description="address glob")] = None,
        phase: Annotated[list[Phase] | None, Query()] = None,
        max_priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    ) -> None:
        self.filter = Filter.build(
            kinds=kind or (),
            sources=source or (),
            phases=[p.value for p in phase or ()],
            max_priority=max_priority,
        )


@router.get("/api/v1/events")
async def list_events(
    request: Request,
    query: Annotated[EventQuery, Depends()],
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
    after: Annotated[int, Query(ge=0, description="return events with seq > after")] = 0,
    since: Annotated[datetime | None, Query(description="ISO-8601 time, with zone")] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """A page of events in journal order; pass ``next_after`` as ``after`` for the next page
    (see :func:`gateway.api.paging.next_after`)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"query.{name}: needs a time zone (e.g. 2026-11-21T08:00:00Z)")
    head = request.app.state.gateway.journal.committed_seq  # before the read: it sees this far
    refuse_beyond_head(head, after)
    records = await request.app.state.reads.run(
        lambda reader: reader.query(
            query.filter,
            after_seq=after,
            since_us=int(since.timestamp() * 1e6) if since else None,
            until_us=int(until.timestamp() * 1e6) if until else None,
            limit=limit,
        )
    )
    events = [event_json(r) for r in records]
    seqs = [r.seq for r in records]
    return {"events": events, "next_after": next_after(after, seqs, limit, head)}


@router.get("/api/v1/events/sse")
async def stream_sse(
    request: Request,
    query: Annotated[EventQuery, Depends()],
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events, one per journaled event (``id`` is its seq); resumes after
    ``Last-Event-ID`` (what browsers send on reconnect) or ``after``."""
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise HTTPException(400, "Last-Event-ID must be the seq of the last event received")
        start = int(last_event_id)
    journal = request.app.state.gateway.journal
    refuse_beyond_head(journal.committed_seq, start)
    consumer = journal.subscribe(query.filter, after=start, wake_for_matches=True)

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            yield b": anfang event stream\n\n"
            last_sent = 0.0
            while True:
                await pace(last_sent)
                batch = await consumer.next_batch(limit=256, timeout=KEEPALIVE_S)
                last_sent = loop.time()
                if not batch:
                    yield b": keepalive\n\n"
                    continue
                chunks = []
                behind = lagging(journal.committed_seq, batch)
                if behind is not None:
                    chunks.append(f"event: lagging\ndata: {json.dumps(behind)}\n\n")
                chunks.extend(sse_message(record) for record in batch)
                yield "".join(chunks).encode()
        finally:
            consumer.close()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.websocket("/api/v1/events/stream")
async def stream_ws(
    websocket: WebSocket,
    query: Annotated[EventQuery, Depends()],
    _: Annotated[Principal, Depends(require_ws(Role.VIEWER))],
    after: Annotated[int | None, Query(ge=0)] = None,
    batch: Annotated[bool, Query(description="coalesce: a JSON array per message")] = False,
) -> None:
    """WebSocket: one JSON text message per event, ``{"seq": …, "event": {…}}``; with
    ``batch=true``, a JSON array of those per message — whatever was ready at once, which is
    what keeps a busy feed cheap for the gateway and the client alike. A client far behind
    first gets ``{"lagging": {"behind": N, "at_seq": S}}``."""
    journal = websocket.app.state.gateway.journal
    refuse_beyond_head(journal.committed_seq, after)  # before the upgrade: a problem response
    await websocket.accept()
    consumer = journal.subscribe(query.filter, after=after, wake_for_matches=True)
    loop = asyncio.get_running_loop()
    last_sent = 0.0
    try:
        while True:
            if batch:
                await pace(last_sent)
            records = await consumer.next_batch(limit=256, timeout=KEEPALIVE_S)
            if not records:
                continue
            last_sent = loop.time()
            behind = lagging(journal.committed_seq, records)
            if behind is not None:
                await websocket.send_text(json.dumps({"lagging": behind}))
            if batch:
                await websocket.send_text(ws_batch(records))
                continue
            for record in records:
                await websocket.send_text(ws_message(record))
    except WebSocketDisconnect:
        pass
    finally:
        consumer.close()


@router.get("/api/v1/events/{event_id}")
async def get_event(
    request: Request,
    event_id: str,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
) -> dict[str, Any]:
    record = await request.app.state.reads.run(lambda reader: reader.find(event_id))
    if record is None or record.rtype.value != "event":
        raise HTTPException(404, f"no event with id {event_id}")
    return event_json(record)
