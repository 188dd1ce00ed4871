"""Commands from platforms and operators: journaled with the caller as issuer, then dispatched."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.model.address import TargetStr
from gateway.model.command import Command
from gateway.model.common import ActionStr, UtcDatetime

router = APIRouter()


class CommandRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: TargetStr
    action: ActionStr
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = Field(default=None, max_length=1000)
    deadline: UtcDatetime | None = None


@router.post("/api/v1/commands")
async def send_command(
    request: Request,
    response: Response,
    body: CommandRequest,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
    wait: Annotated[bool, Query(description="false: answer 202 at once, poll the location")] = True,
) -> dict[str, Any]:
    """Carry out a command and answer with its CommandResult (both journaled); with
    ``wait=false`` answer 202 with where to find the result."""
    command = Command(
        target=body.target,
        action=body.action,
        params=body.params,
        reason=body.reason,
        deadline=body.deadline,
        issued_by=f"api:{principal.name}",
    )
    gateway = request.app.state.gateway
    if not wait:  # journaled before the 202, so the location answers at once
        accepted = await gateway.commands.accept(command)
        task = asyncio.create_task(
            gateway.commands.complete(accepted), name=f"api-command:{command.id}"
        )
        pending: set[asyncio.Task[Any]] = request.app.state.pending_commands
        pending.add(task)
        task.add_done_callback(pending.discard)
        location = f"/api/v1/commands/{command.id}"
        response.status_code = 202
        response.headers["Location"] = location
        return {"command_id": command.id, "location": location}
    result = await gateway.dispatch(command)
    return {"command_id": command.id, **result.model_dump(mode="json")}
