"""Commands and the operator log as recorded in the journal, page by page (``seq``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from gateway.api.paging import next_after, refuse_beyond_head
from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.journal import Filter, JournalRecord

router = APIRouter()


def _json(record: JournalRecord) -> dict[str, Any]:
    model = record.model
    body: dict[str, Any] = {} if model is None else model.model_dump(mode="json")
    return {"seq": record.seq, "type": record.rtype.value, **body}


async def _page(request: Request, types: list[str], after: int, limit: int) -> dict[str, Any]:
    """A page as ``GET /api/v1/events`` gives one: a short page moves ``next_after`` to the
    head it searched to, and a position beyond the head is refused."""
    head = request.app.state.gateway.journal.committed_seq  # before the read: it sees this far
    refuse_beyond_head(head, after)
    records = await request.app.state.reads.run(
        lambda reader: reader.query(Filter.build(types=types), after_seq=after, limit=limit)
    )
    return {
        "records": [_json(r) for r in records],
        "next_after": next_after(after, [r.seq for r in records], limit, head),
    }


@router.get("/api/v1/commands")
async def list_commands(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Commands and their results, in the order they were journaled."""
    return await _page(request, ["command", "result"], after, limit)


@router.get("/api/v1/commands/{command_id}")
async def get_command(
    request: Request,
    command_id: str,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
) -> dict[str, Any]:
    """A command and, once it has one, its result (for ``POST …?wait=false``)."""
    reads = request.app.state.reads
    command = await reads.run(lambda reader: reader.find(command_id))
    if command is None or command.rtype.value != "command":
        raise HTTPException(404, f"no command with id {command_id}")
    results = await reads.run(
        lambda reader: reader.query(
            Filter.build(types=["result"]), after_seq=command.seq, limit=1000
        )
    )
    result = next(
        (r for r in results if r.model is not None and getattr(r.model, "command_id", None)
         == command_id),
        None,
    )  # fmt: skip
    return {"command": _json(command), "result": None if result is None else _json(result)}


@router.get("/api/v1/audit")
async def audit(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.ADMIN))],
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The operator log: logins, user and token changes, reloads (GB 50348 §6.4.1)."""
    return await _page(request, ["audit"], after, limit)
