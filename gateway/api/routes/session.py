"""Browser login: ``POST /api/v1/session`` sets the session cookie and returns the CSRF token.

Refused logins say why only as far as is safe (locked, or bad credentials); every attempt is in
the operator log through the auth store's audit entries.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.security import CHALLENGE, require
from gateway.auth import COOKIE, LoginRefused, Principal, Role

router = APIRouter()


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/api/v1/session")
async def login(request: Request, body: Login, response: Response) -> dict[str, Any]:
    state = request.app.state
    remote = request.client.host if request.client else None
    try:
        principal = await state.auth.login_async(body.user, body.password, remote)
    except LoginRefused as exc:
        state.counters[f"login_refused_{exc.reason}"] += 1
        if exc.reason == "locked":
            raise HTTPException(401, "too many failed logins: try again later", CHALLENGE) from None
        raise HTTPException(401, "wrong user name or password", CHALLENGE) from None
    secret, session = state.sessions.create(principal.name)
    response.set_cookie(
        COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=state.https,
        path="/api/v1",
    )
    return {"user": principal.name, "role": principal.role.value, "csrf_token": session.csrf}


@router.get("/api/v1/session")
async def whoami(principal: Annotated[Principal, Depends(require(Role.VIEWER))]) -> dict[str, Any]:
    return {"user": principal.name, "role": principal.role.value, "via": principal.via}


@router.delete("/api/v1/session", status_code=204)
async def logout(
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(require(Role.VIEWER))],
) -> None:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        request.app.state.sessions.end(cookie)
    response.delete_cookie(COOKIE, path="/api/v1")
