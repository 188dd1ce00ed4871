"""Errors as RFC 9457 problem details: a type, a title, the status and a specific detail.

Every error leaves as ``application/problem+json`` — a refused WebSocket too (through the
denial-response extension, instead of a bare 403 that reads like an authentication failure),
and an unexpected exception (500, logged with its traceback, counted as ``internal_error``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM = "application/problem+json"

log = structlog.get_logger("anfang.api")


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(exc.errors(), request.headers.get("content-type"))

    @app.exception_handler(WebSocketRequestValidationError)
    async def invalid_ws(websocket: WebSocket, exc: WebSocketRequestValidationError) -> None:
        await websocket.send_denial_response(invalid_request(exc.errors(), None))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        request.app.state.counters["internal_error"] += 1
        log.error(
            "API request failed",
            method=request.method,
            path=request.url.path,
            error=repr(exc),
            exc_info=exc,
        )
        return problem(500, f"the gateway failed to answer ({type(exc).__name__}); it is logged")


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def invalid_request(raw: Sequence[Any], content_type: str | None) -> JSONResponse:
    errors = [_explained(e, content_type) for e in raw]
    first = errors[0] if errors else {"where": "", "problem": "invalid request"}
    body = {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 422,
        "detail": f"{first['where']}: {first['problem']}",
        "errors": errors,
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM)


def _explained(error: dict[str, Any], content_type: str | None) -> dict[str, str]:
    """One validation error as ``where`` and ``problem``, in the words a caller needs: a JSON
    syntax error names its character position (pydantic puts it where a field would be), and
    a body that is not an object while no JSON content type was sent says to send one."""
    loc = [str(p) for p in error.get("loc", ())]
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":
        position = loc[1] if len(loc) > 1 else "?"
        reason = (error.get("ctx") or {}).get("error", "")
        return {
            "where": "body",
            "problem": f"not valid JSON ({reason or message}) at character {position}",
        }
    if (
        loc[:1] == ["body"]
        and error.get("type") in ("dict_type", "model_attributes_type")
        and "json" not in (content_type or "").lower()
    ):
        message = (
            f"{message}; send the body as JSON with 'Content-Type: application/json' "
            f"(the request said {content_type or 'no content type'})"
        )
    return {"where": ".".join(loc), "problem": message}


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid request",
    500: "Internal error",
    503: "Unavailable",
}
