"""Admin actions: reload the config (as SIGHUP does), journaled as an audit record."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.config import ConfigError, LoadedConfig, load_config
from gateway.host.reload import ReloadError

router = APIRouter()


def _load(source: Path, classes: Any) -> LoadedConfig:
    """The file the gateway was started with (the packaged demo when it has none)."""
    return load_config(source if source.is_file() else None, classes)


@router.post("/api/v1/reload")
async def reload(
    request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    """Re-read the config file; only instances whose settings changed are restarted."""
    gw = request.app.state.gateway
    source = Path(gw.config.source)
    try:
        new = await asyncio.to_thread(_load, source, gw.installed.classes)
        plan = await gw.reload(new, actor=f"api:{principal.name}")
    except ConfigError as exc:
        raise HTTPException(422, exc.render()) from None
    except ReloadError as exc:
        raise HTTPException(409, str(exc)) from None
    return dict(plan.summary())
