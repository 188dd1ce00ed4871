"""Commands from platforms and operators: journaled with the caller as issuer, then dispatched."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
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
    body: CommandRequest,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> dict[str, Any]:
    """Carry out a command and answer with its CommandResult (both journaled)."""
    command = Command(
        target=body.target,
        action=body.action,
        params=body.params,
        reason=body.reason,
        deadline=body.deadline,
        issued_by=f"api:{principal.name}",
    )
    result = await request.app.state.gateway.dispatch(command)
    return {"command_id": command.id, **result.model_dump(mode="json")}
