"""The registry as platforms see it: devices (status, GB code, clock offset) and areas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from gateway.api.security import require
from gateway.auth import Principal, Role

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
    return {**found.model_dump(mode="json"), "points": points}


@router.get("/api/v1/areas")
async def areas(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    reg = request.app.state.gateway.registry
    return {"areas": [a.model_dump(mode="json") for _, a in sorted(reg.areas.items())]}
