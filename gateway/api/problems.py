"""Errors as RFC 9457 problem details: a type, a title, the status and a specific detail."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM = "application/problem+json"


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": _TITLES.get(exc.status_code, "Error"),
            "status": exc.status_code,
            "detail": str(exc.detail),
        }
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        first = errors[0] if errors else {"where": "", "problem": "invalid request"}
        body = {
            "type": "about:blank",
            "title": "Invalid request",
            "status": 422,
            "detail": f"{first['where']}: {first['problem']}",
            "errors": errors,
        }
        return JSONResponse(body, status_code=422, media_type=PROBLEM)


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid request",
    503: "Unavailable",
}
