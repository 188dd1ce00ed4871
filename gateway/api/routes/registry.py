"""The registry as platforms see it: devices (status, GB code, clock offset) and areas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.model.command import AuditEntry

router = APIRouter()


@router.get("/api/v1/devices")
async def devices(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    reg = request.app.state.gateway.registry
    return {"devices": [d.model_dump(mode="json") for _, d in sorted(reg.devices.items())]}


@router.get("/api/v1/devices/{address:path}")
async def device(
    request: Request, address: str, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    reg = request.app.state.gateway.registry
    found = reg.devices.get(address)
    if found is None:
        point = reg.points.get(address)
        if point is None:
            raise HTTPException(404, f"no device or point at {address}")
        return dict(point.model_dump(mode="json"))
    points = [p.model_dump(mode="json") for a, p in sorted(reg.points.items())
              if a.startswith(address + "/")]  # fmt: skip
    overrides = reg.overrides.get(address, {})
    return {**found.model_dump(mode="json"), "points": points, "overrides": overrides}


class DeviceEdit(BaseModel):
    """Fields the API may edit; ``null`` removes an earlier edit (the YAML's pin shows again)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=64)


@router.patch("/api/v1/devices/{address:path}")
async def edit_device(
    request: Request,
    address: str,
    body: DeviceEdit,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
) -> dict[str, Any]:
    """Rename, relocate or move a point to another area; kept as an override of the YAML's pins
    (shown under ``overrides``), journaled as an audit record."""
    gw = request.app.state.gateway
    fields = {k: getattr(body, k) for k in body.model_fields_set}
    if not fields:
        raise HTTPException(400, "nothing to change: send name, location or area")
    try:
        updated = gw.registry.set_override(address, fields)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    await gw.journal.append(
        AuditEntry(
            actor=f"api:{principal.name}",
            action="registry.override",
            target=address,
            remote=request.client.host if request.client else None,
            detail={"fields": fields},
        )
    )
    return {**updated.model_dump(mode="json"), "overrides": gw.registry.overrides.get(address, {})}


@router.get("/api/v1/areas")
async def areas(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    reg = request.app.state.gateway.registry
    return {"areas": [a.model_dump(mode="json") for _, a in sorted(reg.areas.items())]}
