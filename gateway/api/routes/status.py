"""Health (open, for load balancers and monitoring), plugins, and the journal's chain head."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from gateway.api.security import require
from gateway.auth import Principal, Role

router = APIRouter()


@router.get("/api/v1/health")
async def health(request: Request) -> dict[str, Any]:
    """Open: each plugin instance's state and last error, the journal's state and cursors."""
    gw = request.app.state.gateway
    journal = gw.journal
    fault = journal.fault
    instances = {
        instance_id: {
            "state": runner.status.state.value,
            "restarts": runner.status.restarts,
            "last_error": runner.status.last_error,
            "faulted": runner.status.faulted,
            "stalls": runner.status.stalls,
        }
        for instance_id, runner in gw.runners.items()
    }
    head = journal.committed_seq
    cursors = {name: max(0, head - seq) for name, seq in journal.reader.cursors().items()}
    healthy = fault is None and all(i["state"] == "running" for i in instances.values())
    return {
        "status": "ok" if healthy else "degraded",
        "site": gw.site,
        "instances": instances,
        "journal": {"head_seq": head, "fault": None if fault is None else str(fault)},
        "cursor_backlog": cursors,
    }


@router.get("/api/v1/instances")
async def instances(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    """Each configured instance: its plugin, state, restarts, last error, and what the plugin
    itself reports (``Plugin.health()``: a notifier's last failed delivery, ...). Behind a
    login, unlike ``/health``: such details can name servers and recipients."""
    gw = request.app.state.gateway
    out = []
    for inst in gw.config.gateway.plugins:
        runner = gw.runners.get(inst.id)
        entry: dict[str, Any] = {"id": inst.id, "plugin": inst.plugin, "enabled": inst.enabled}
        if runner is not None:
            entry.update(
                state=runner.status.state.value,
                restarts=runner.status.restarts,
                last_error=runner.status.last_error,
                details=_details(runner.plugin),
            )
        out.append(entry)
    return {"instances": out}


def _details(plugin: Any) -> dict[str, Any] | None:
    if plugin is None:
        return None
    try:
        details = plugin.health()
    except Exception as exc:  # a plugin's report must not break the page
        return {"error": f"health() raised {type(exc).__name__}: {exc}"[:500]}
    return details if isinstance(details, dict) else None


@router.get("/api/v1/plugins")
async def plugins(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    gw = request.app.state.gateway
    return {
        "plugins": [
            {
                "name": name,
                "version": cls.version,
                "description": cls.description,
                "protocols": list(cls.protocols),
                "actions": list(cls.actions),
                "kinds": [k.name for k in cls.kinds],
            }
            for name, cls in sorted(gw.installed.classes.items())
        ]
    }


@router.get("/api/v1/journal/head")
async def journal_head(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, Any]:
    """The chain head, for platforms that keep an outside copy to detect truncation."""
    head = request.app.state.gateway.journal.head()
    return {"seq": head.seq, "hash": head.hash_hex}
