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


def _load(path: Path | None, classes: Any) -> LoadedConfig:
    """The file the gateway was started with, read again (the packaged demo only when it was
    started on it: a file that has gone is refused, as SIGHUP refuses it)."""
    return load_config(path, classes)


@router.post("/api/v1/reload")
async def reload(
    request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    """Re-read the config file; only instances whose settings changed are restarted. A refused
    reload changes nothing and is audited with its reason, as an applied one is."""
    gw = request.app.state.gateway
    actor = f"api:{principal.name}"
    remote = request.client.host if request.client else None
    try:
        new = await asyncio.to_thread(_load, gw.config.path, gw.installed.classes)
        plan = await gw.reload(new, actor=actor, remote=remote)
    except ConfigError as exc:
        await _refused(gw, actor, remote, exc.render())
        raise HTTPException(422, exc.render()) from None
    except ReloadError as exc:
        await _refused(gw, actor, remote, str(exc))
        raise HTTPException(409, str(exc)) from None
    return dict(plan.summary())


async def _refused(gw: Any, actor: str, remote: str | None, reason: str) -> None:
    detail = {"source": gw.config.source, "reason": reason[:2000]}
    await gw.audit_reload(actor, remote, detail, result="refused")
