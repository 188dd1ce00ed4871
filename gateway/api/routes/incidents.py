"""Incidents for operators: list and read them, acknowledge, annotate, confirm the police receipt,
close. Every change is journaled as an ``incident.*`` event naming the operator (the audit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.incidents.tracker import IncidentError, IncidentTracker

router = APIRouter()

StateQuery = Literal["open", "new", "acknowledged", "closed"]


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=4000)


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: str | None = Field(
        default=None, max_length=64, description="e.g. real, false, test, technical"
    )
    note: str | None = Field(default=None, max_length=4000)


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class PoliceReceiptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=200, description="the police's reference")
    note: str | None = Field(default=None, max_length=4000)


def _tracker(request: Request) -> IncidentTracker:
    tracker: IncidentTracker = request.app.state.gateway.incidents
    return tracker


def _problem(exc: IncidentError) -> HTTPException:
    return HTTPException(status_code=404 if exc.not_found else 409, detail=str(exc))


@router.get("/api/v1/incidents")
async def list_incidents(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
    state: Annotated[StateQuery | None, Query(description="open = new or acknowledged")] = None,
    incident_class: Annotated[str | None, Query(alias="class")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Newest first."""
    chosen = _tracker(request).listing(state, incident_class, limit)
    return {"incidents": [i.public() for i in chosen]}


@router.get("/api/v1/incidents/{incident_id}")
async def get_incident(
    request: Request,
    incident_id: str,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
) -> dict[str, Any]:
    try:
        return _tracker(request).get(incident_id).public()
    except IncidentError as exc:
        raise _problem(exc) from None


@router.post("/api/v1/incidents/{incident_id}/ack")
async def acknowledge(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
    body: AckRequest | None = None,
) -> dict[str, Any]:
    """Stops the escalation; 409 when the incident is not new any more."""
    note = body.note if body else None
    try:
        incident = await _tracker(request).acknowledge(incident_id, principal.name, note)
    except IncidentError as exc:
        raise _problem(exc) from None
    return incident.public()


@router.post("/api/v1/incidents/{incident_id}/notes")
async def add_note(
    request: Request,
    incident_id: str,
    body: NoteRequest,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> dict[str, Any]:
    try:
        incident = await _tracker(request).add_note(incident_id, principal.name, body.text)
    except IncidentError as exc:
        raise _problem(exc) from None
    return incident.public()


@router.post("/api/v1/incidents/{incident_id}/police-receipt")
async def police_receipt(
    request: Request,
    incident_id: str,
    body: PoliceReceiptRequest,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> dict[str, Any]:
    """The police confirmed they received the report (GB 50348 §11.2.7)."""
    try:
        incident = await _tracker(request).police_receipt(
            incident_id, principal.name, body.reference, body.note
        )
    except IncidentError as exc:
        raise _problem(exc) from None
    return incident.public()


@router.post("/api/v1/incidents/{incident_id}/close")
async def close(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
    body: CloseRequest | None = None,
) -> dict[str, Any]:
    """409 when already closed, or reported to the police without a recorded receipt."""
    disposition = body.disposition if body else None
    note = body.note if body else None
    try:
        incident = await _tracker(request).close(incident_id, principal.name, disposition, note)
    except IncidentError as exc:
        raise _problem(exc) from None
    return incident.public()
