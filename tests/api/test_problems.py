"""Requests the API refuses or fails on: each answer is a specific RFC 9457 problem."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import websockets

from gateway.auth import Role
from gateway.journal import Filter
from tests.api.helpers import Api


async def test_huge_bodies_are_refused_unread(api: Api) -> None:
    huge = {"target": "hq/siren-1", "action": "output.pulse", "reason": "x" * 100_000}
    refused = await api.client.post("/api/v1/commands", json=huge, headers=api.auth(Role.OPERATOR))
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    commands = api.gw.journal.reader.query(Filter.build(types=["command"]))
    assert commands == [], "nothing of it was acted on"


async def test_a_chunked_body_over_the_limit_is_refused_as_too_large(api: Api) -> None:
    """Without a Content-Length the limit is counted as the body arrives; FastAPI reading it
    used to turn the refusal into a 400 "error parsing the body"."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"target": "hq/siren-1", "action": "output.pulse", "reason": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    refused = await api.client.post(
        "/api/v1/commands",
        content=chunks(),
        headers={**api.auth(Role.OPERATOR), "content-type": "application/json"},
    )
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "limited to" in refused.json()["detail"]
    assert api.gw.journal.reader.query(Filter.build(types=["command"])) == []


async def test_body_mistakes_are_explained(api: Api) -> None:
    operator = {**api.auth(Role.OPERATOR), "content-type": "application/json"}
    broken = await api.client.post(
        "/api/v1/commands", content=b'{"target": "hq/siren-1", ', headers=operator
    )
    assert broken.status_code == 422
    assert broken.json()["detail"].startswith("body: not valid JSON (")
    assert "at character 25" in broken.json()["detail"]
    untyped = await api.client.post(
        "/api/v1/commands",
        content=b'{"target": "hq/siren-1", "action": "output.pulse"}',
        headers={**api.auth(Role.OPERATOR), "content-type": "application/x-www-form-urlencoded"},
    )
    assert untyped.status_code == 422
    assert "Content-Type: application/json" in untyped.json()["detail"]


async def test_a_websocket_with_a_bad_query_is_told_why(api: Api) -> None:
    """Refused before the upgrade with a 422 problem, not the bare 403 of a failed login."""
    url = f"ws://127.0.0.1:{api.base.rsplit(':', 1)[1]}/api/v1/events/stream?max_priority=9"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=api.auth(Role.VIEWER)):
            pass
    response = refused.value.response
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(response.body)["detail"].startswith("query.max_priority")


async def test_an_unexpected_failure_is_a_logged_problem_not_a_bare_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.gw.journal, "head", broken)
    failed = await api.client.get("/api/v1/journal/head", headers=api.auth(Role.VIEWER))
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert "RuntimeError" in failed.json()["detail"]
    assert "disk on fire" not in failed.json()["detail"], "internals stay in the log"
    assert api.gw.journal.committed_seq >= 0  # the gateway goes on
    metrics = await api.client.get("/api/v1/metrics", headers=api.auth(Role.VIEWER))
    assert 'anfang_api_requests_refused_total{reason="internal_error"} 1' in metrics.text
