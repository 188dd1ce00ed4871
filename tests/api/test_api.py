"""The REST API over real HTTP (uvicorn on 127.0.0.1, httpx and websockets as clients)."""

from __future__ import annotations

import asyncio
import json
import platform
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute

from gateway import __version__
from gateway.auth import Role
from gateway.event_loop import running_loop_name
from gateway.host import InstanceState
from gateway.journal import Filter
from gateway.model.command import Command
from gateway.model.event import Event
from tests.api.helpers import CONFIG, Api, running_api

OPEN = None
MATRIX: dict[tuple[str, str], Role | None] = {
    ("GET", "/api/v1/health"): OPEN,
    ("GET", "/api/v1/openapi.json"): OPEN,
    ("POST", "/api/v1/session"): OPEN,
    ("GET", "/api/v1/session"): Role.VIEWER,
    ("DELETE", "/api/v1/session"): Role.VIEWER,
    ("GET", "/api/v1/events"): Role.VIEWER,
    ("GET", "/api/v1/events/sse"): Role.VIEWER,
    ("WS", "/api/v1/events/stream"): Role.VIEWER,
    ("GET", "/api/v1/events/{event_id}"): Role.VIEWER,
    ("GET", "/api/v1/plugins"): Role.VIEWER,
    ("GET", "/api/v1/journal/head"): Role.VIEWER,
    ("GET", "/api/v1/devices"): Role.VIEWER,
    ("GET", "/api/v1/devices/{address:path}"): Role.VIEWER,
    ("PATCH", "/api/v1/devices/{address:path}"): Role.ADMIN,
    ("GET", "/api/v1/areas"): Role.VIEWER,
    ("POST", "/api/v1/commands"): Role.OPERATOR,
    ("POST", "/api/v1/reload"): Role.ADMIN,
    ("GET", "/api/v1/metrics"): Role.VIEWER,
    ("GET", "/api/v1/commands"): Role.VIEWER,
    ("GET", "/api/v1/commands/{command_id}"): Role.VIEWER,
    ("GET", "/api/v1/audit"): Role.ADMIN,
    ("GET", "/api/v1/instances"): Role.VIEWER,
    ("GET", "/api/v1/incidents"): Role.VIEWER,
    ("GET", "/api/v1/incidents/{incident_id}"): Role.VIEWER,
    ("POST", "/api/v1/incidents/{incident_id}/ack"): Role.OPERATOR,
    ("POST", "/api/v1/incidents/{incident_id}/notes"): Role.OPERATOR,
    ("POST", "/api/v1/incidents/{incident_id}/police-receipt"): Role.OPERATOR,
    ("POST", "/api/v1/incidents/{incident_id}/close"): Role.OPERATOR,
}
"""Written by hand: who may call what. A route missing here fails the test below."""


def routes_of(api: Api) -> set[tuple[str, str]]:
    assert api.gw.api is not None
    app = api.gw.api.app
    found = set()
    routes = []
    for route in app.routes:  # FastAPI wraps included routers; look inside them
        inner = getattr(route, "original_router", None)
        routes.extend(inner.routes if inner is not None else [route])
    for route in routes:
        if isinstance(route, APIWebSocketRoute):
            found.add(("WS", route.path))
        elif isinstance(route, APIRoute):
            found.update((m, route.path) for m in route.methods)
        elif getattr(route, "path", None) == "/api/v1/openapi.json":
            found.add(("GET", route.path))
    return found


async def test_every_route_is_in_the_role_matrix(api: Api) -> None:
    assert routes_of(api) == set(MATRIX), "add new routes to MATRIX with the role they need"
    assert all(path.startswith("/api/v1/") for _, path in MATRIX)


async def test_roles_are_enforced_on_every_http_route(api: Api) -> None:
    await api.publish(1)
    event_id = (await api.client.get("/api/v1/events", headers=api.auth(Role.VIEWER))).json()[
        "events"
    ][-1]["id"]
    sent = Command(target="hq/siren-1", action="output.pulse", issued_by="test")
    await api.gw.dispatch(sent)
    concrete = {
        "/api/v1/commands/{command_id}": f"/api/v1/commands/{sent.id}",
        "/api/v1/events/{event_id}": f"/api/v1/events/{event_id}",
        "/api/v1/devices/{address:path}": "/api/v1/devices/hq/panel-1",
    }
    bodies = {
        "/api/v1/commands": {"target": "hq/siren-1", "action": "output.pulse"},
        "/api/v1/devices/{address:path}": {"location": "back office"},
        "/api/v1/incidents/{incident_id}/notes": {"text": "checked"},
        "/api/v1/incidents/{incident_id}/police-receipt": {"reference": "110-1"},
    }
    zones = iter(range(1, 1000))

    async def fresh_incident() -> str:
        """Each call its own incident: an acknowledged one cannot be acknowledged again."""
        alarm = Event(
            kind="fire", phase="alarm", priority=1, source=f"hq/panel-1/zone-{next(zones)}"
        )
        await api.gw.journal.append(alarm)
        for _ in range(1000):
            opened = [i for i in api.gw.incidents.incidents.values() if alarm.id in i.triggers]
            if opened:
                return opened[0].id
            await asyncio.sleep(0.005)
        raise AssertionError("no incident opened")

    ranks = [None, Role.VIEWER, Role.OPERATOR, Role.ADMIN]
    for (method, path), needed in MATRIX.items():
        if method == "WS" or path.endswith("/sse") or (method, path) == ("POST", "/api/v1/session"):
            continue  # streams and the login have tests of their own
        url = concrete.get(path, path)
        for who in ranks:
            if "{incident_id}" in path:
                url = path.replace("{incident_id}", await fresh_incident())
            body = bodies.get(path) if method in ("POST", "PATCH") else None
            response = await api.client.request(method, url, headers=api.auth(who), json=body)
            if needed is None:
                assert response.status_code == 200, (method, path, who, response.text)
            elif who is None:
                assert response.status_code == 401, (method, path)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.headers["content-type"] == "application/problem+json"
            elif ranks.index(who) < ranks.index(needed):
                assert response.status_code == 403, (method, path, who)
                assert f"needs the {needed.value} role" in response.json()["detail"]
            else:
                expected = 204 if method == "DELETE" else 200
                assert response.status_code == expected, (method, path, who, response.text)
    wrong = await api.client.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]


async def test_event_queries_filter_and_page_by_seq(api: Api) -> None:
    await api.publish(5, kind="test.manual")
    await api.publish(3, kind="test.periodic")
    viewer = api.auth(Role.VIEWER)
    first = (
        await api.client.get(
            "/api/v1/events", params={"kind": "test.manual", "limit": 3}, headers=viewer
        )
    ).json()
    assert [e["data"]["n"] for e in first["events"]] == [0, 1, 2]
    rest = (
        await api.client.get(
            "/api/v1/events",
            params={"kind": "test.manual", "after": first["next_after"]},
            headers=viewer,
        )
    ).json()
    assert [e["data"]["n"] for e in rest["events"]] == [3, 4]
    head = (await api.client.get("/api/v1/journal/head", headers=viewer)).json()["seq"]
    assert rest["next_after"] == head  # a short page searched to the head: poll from there
    none = await api.client.get("/api/v1/events", params={"kind": "fire"}, headers=viewer)
    assert none.json() == {"events": [], "next_after": head}  # not 0: no rescan every poll
    commands = (await api.client.get("/api/v1/commands", headers=viewer)).json()
    assert commands["next_after"] == head  # none yet: the search still reached the head
    for path in ("/api/v1/events", "/api/v1/events/sse", "/api/v1/commands"):
        stale = await api.client.get(path, params={"after": head + 50}, headers=viewer)
        assert stale.status_code == 409, path  # a cursor from another journal, not silence
        assert f"beyond this journal's newest record (seq {head})" in stale.json()["detail"]
    naive = await api.client.get(
        "/api/v1/events", params={"since": "2026-01-01T00:00:00"}, headers=viewer
    )
    assert naive.status_code == 422 and naive.json()["detail"].startswith("query.since: needs")
    typo = await api.client.get("/api/v1/events", params={"phase": "alarms"}, headers=viewer)
    assert typo.status_code == 422 and typo.json()["detail"].startswith("query.phase.0")
    alarms = await api.client.get("/api/v1/events", params={"phase": "alarm"}, headers=viewer)
    assert alarms.status_code == 200 and alarms.json()["events"] == []
    bad = await api.client.get("/api/v1/events", params={"limit": 0}, headers=viewer)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("query.limit")


async def read_sse(response: httpx.Response, count: int) -> list[tuple[int, dict[str, Any]]]:
    got: list[tuple[int, dict[str, Any]]] = []
    seq = 0
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            seq = int(line[4:])
        elif line.startswith("data: "):
            got.append((seq, json.loads(line[6:])))
            if len(got) == count:
                break
    return got


async def test_sse_resumes_after_a_disconnect_with_no_gap(api: Api) -> None:
    viewer = api.auth(Role.VIEWER)
    params = {"kind": "test.manual", "after": 0}
    async with api.client.stream(
        "GET", "/api/v1/events/sse", params=params, headers=viewer
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        await api.publish(3)
        first = await read_sse(response, 3)
    last_seen = first[-1][0]
    await api.publish(4)  # published while the client was away
    async with api.client.stream(
        "GET",
        "/api/v1/events/sse",
        params={"kind": "test.manual"},
        headers={**viewer, "Last-Event-ID": str(last_seen)},
    ) as response:
        second = await read_sse(response, 4)
    assert [e["data"]["n"] for _, e in first + second] == [0, 1, 2, 0, 1, 2, 3]
    assert second[0][0] > last_seen


async def test_websocket_stream_resumes_from_a_seq(api: Api) -> None:
    seqs = await api.publish(3)
    url = f"ws://127.0.0.1:{api.base.rsplit(':', 1)[1]}/api/v1/events/stream"
    headers = api.auth(Role.VIEWER)
    async with websockets.connect(
        f"{url}?kind=test.manual&after={seqs[0]}", additional_headers=headers
    ) as ws:
        got = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(2)]
    assert [m["seq"] for m in got] == seqs[1:]
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url):
            pass
    head = (await api.client.get("/api/v1/journal/head", headers=headers)).json()["seq"]
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(f"{url}?after={head + 9}", additional_headers=headers):
            pass  # a position from another journal is refused before the upgrade
    assert refused.value.response.status_code == 409
    assert b"beyond this journal's newest record" in refused.value.response.body


async def test_websocket_batches_are_arrays_in_order_and_match_the_query(api: Api) -> None:
    seqs = await api.publish(5)
    url = f"ws://127.0.0.1:{api.base.rsplit(':', 1)[1]}/api/v1/events/stream"
    viewer = api.auth(Role.VIEWER)
    streamed: list[dict[str, Any]] = []
    async with websockets.connect(
        f"{url}?kind=test.manual&after={seqs[0]}&batch=true", additional_headers=viewer
    ) as ws:
        while len(streamed) < 4:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert isinstance(message, list), "batch mode sends arrays"
            streamed.extend(message)
    assert [m["seq"] for m in streamed] == seqs[1:]
    page = await api.client.get(
        "/api/v1/events", params={"kind": "test.manual", "after": seqs[0]}, headers=viewer
    )
    assert [m["event"] for m in streamed] == page.json()["events"], "one shape everywhere"


async def test_websocket_compression_only_when_configured(api: Api, tmp_path: Path) -> None:
    """Deflate costs CPU per client per message; it is offered only when the installer asks."""
    path = "/api/v1/events/stream"
    url = f"ws://127.0.0.1:{api.base.rsplit(':', 1)[1]}{path}"
    async with websockets.connect(url, additional_headers=api.auth(Role.VIEWER)) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
    compressed = CONFIG.replace("api: {port: 0}", "api: {port: 0, ws_compression: true}")
    async with running_api(tmp_path / "deflate", compressed) as other:
        url = f"ws://127.0.0.1:{other.base.rsplit(':', 1)[1]}{path}"
        async with websockets.connect(url, additional_headers=other.auth(Role.VIEWER)) as ws:
            assert ws.response is not None
            assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]


async def test_a_websocket_far_behind_is_told_so(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.api import stream

    monkeypatch.setattr(stream, "BEHIND", 10)
    seqs = await api.publish(40)
    url = f"ws://127.0.0.1:{api.base.rsplit(':', 1)[1]}/api/v1/events/stream?after=0"
    async with websockets.connect(url, additional_headers=api.auth(Role.VIEWER)) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        following = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert first["lagging"]["behind"] > 10 and first["lagging"]["at_seq"] == following["seq"]
    assert following["seq"] < seqs[0], "the events still come, in order, from the start"


async def test_commands_are_dispatched_and_audited_with_the_caller(api: Api) -> None:
    operator = api.auth(Role.OPERATOR)
    ok = await api.client.post(
        "/api/v1/commands", json={"target": "hq/vault", "action": "area.arm"}, headers=operator
    )
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    unknown = await api.client.post(
        "/api/v1/commands",
        json={"target": "hq/vault", "action": "area.arm", "colour": "red"},
        headers=operator,
    )
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    commands = api.gw.journal.reader.query(Filter.build(types=["command"]))
    assert commands[-1].model.issued_by == "api:test-operator"  # type: ignore[union-attr]


async def test_health_is_open_and_says_what_runs(api: Api) -> None:
    body = (await api.client.get("/api/v1/health")).json()
    assert body["status"] == "ok"
    assert body["instances"]["panel"]["state"] == "running"
    assert body["journal"]["head_seq"] >= 1


STRONG = "Correct-Horse-Battery-9"


async def test_browser_session_with_csrf_on_writes(api: Api) -> None:
    api.gw.auth.add_user("alice", STRONG, Role.OPERATOR)
    browser = httpx.AsyncClient(base_url=api.base, timeout=10)
    try:
        login = await browser.post("/api/v1/session", json={"user": "alice", "password": STRONG})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api/v1" in cookie
        csrf = login.json()["csrf_token"]
        assert (await browser.get("/api/v1/session")).json()["via"] == "session"
        assert (await browser.get("/api/v1/events")).status_code == 200, "reads need no CSRF"
        command = {"target": "hq/vault", "action": "area.disarm"}
        no_csrf = await browser.post("/api/v1/commands", json=command)
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
        with_csrf = await browser.post(
            "/api/v1/commands", json=command, headers={"X-CSRF-Token": csrf}
        )
        assert with_csrf.status_code == 200 and with_csrf.json()["status"] == "ok"
        out = await browser.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert (await browser.get("/api/v1/events")).status_code == 401
    finally:
        await browser.aclose()


async def test_logins_lock_out_and_are_audited(api: Api) -> None:
    api.gw.auth.add_user("bob", STRONG, Role.VIEWER)
    for _ in range(5):
        wrong = await api.client.post("/api/v1/session", json={"user": "bob", "password": "x"})
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    locked = await api.client.post("/api/v1/session", json={"user": "bob", "password": STRONG})
    assert locked.status_code == 401 and "too many failed logins" in locked.text

    def auth_audits() -> list[Any]:
        records = api.gw.journal.reader.query(Filter.build(types=["audit"]), limit=100)
        return [r.model for r in records if r.kind.startswith("auth.")]

    for _ in range(3000):  # audit entries are journaled in the background
        audits = auth_audits()
        if any(a.action == "auth.lockout" for a in audits):
            break
        await asyncio.sleep(0.02)
    logins = [a for a in audits if a.action == "auth.login"]  # type: ignore[union-attr]
    assert len(logins) >= 5 and all(a.result != "ok" for a in logins)  # type: ignore[union-attr]
    assert any(a.action == "auth.lockout" for a in audits)  # type: ignore[union-attr]
    assert all(a.remote == "127.0.0.1" for a in logins)  # type: ignore[union-attr]


async def test_metrics_commands_and_audit(api: Api) -> None:
    operator, admin = api.auth(Role.OPERATOR), api.auth(Role.ADMIN)
    later = await api.client.post(
        "/api/v1/commands?wait=false",
        json={"target": "hq/siren-1", "action": "output.pulse"},
        headers=operator,
    )
    assert later.status_code == 202
    location = later.headers["location"]
    for _ in range(3000):  # up to 60 s on a loaded machine
        found = (await api.client.get(location, headers=operator)).json()
        if found["result"] is not None:
            break
        await asyncio.sleep(0.02)
    assert found["command"]["issued_by"] == "api:test-operator"
    assert found["result"]["status"] == "ok"
    listed = (await api.client.get("/api/v1/commands", headers=operator)).json()["records"]
    assert [r["type"] for r in listed][-2:] == ["command", "result"]
    await api.client.post("/api/v1/reload", headers=admin)
    audit = (await api.client.get("/api/v1/audit", headers=admin)).json()["records"]
    assert any(r["action"] == "config.reload" and r["actor"] == "api:initial-admin" for r in audit)
    text = (await api.client.get("/api/v1/metrics", headers=operator)).text
    assert 'anfang_instance_up{instance="panel"} 1' in text
    assert 'anfang_commands_total{status="ok"} 1' in text
    assert 'anfang_command_duration_seconds_bucket{le="+Inf"} 1' in text
    assert "anfang_journal_commit_seconds" in text
    assert 'anfang_api_requests_refused_total{reason="auth_missing"}' not in text


LABEL = r'[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*"'
EXPOSITION_LINE = re.compile(
    rf"^(# (HELP|TYPE) \w+ .+|[a-zA-Z_:][\w:]*(\{{{LABEL}(,{LABEL})*\}})? \S+)$"
)


async def test_metrics_carry_the_plugins_own_counters(api: Api) -> None:
    """A plugin that has published has counters (``events_published``): the page carries them,
    labelled by their name, and every line keeps to the text format (it answered 500 once)."""
    ctx = api.gw.runners["panel"].context
    assert ctx is not None
    await ctx.publish(ctx.event("test.manual", "hq/panel-1", "momentary"))
    ctx.counters["nak_crc"] += 1
    answer = await api.client.get("/api/v1/metrics", headers=api.auth(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert 'anfang_plugin_counter_total{instance="panel",name="nak_crc"} 1' in text
    assert 'anfang_events_published_total{instance="panel",kind="test.manual"} 1' in text
    assert (
        f'anfang_build_info{{version="{__version__}",python="{platform.python_version()}",'
        f'event_loop="{running_loop_name()}"}} 1' in text
    ), "the loop the gateway runs on (the test's)"
    bad = [line for line in text.splitlines() if not EXPOSITION_LINE.match(line)]
    assert bad == []


async def test_a_reload_reads_the_same_file_and_never_falls_back_to_the_demo(
    api: Api, tmp_path: Path
) -> None:
    """The config file has gone: the reload is refused (as SIGHUP refuses it) and audited, and
    the site's instances keep running — it once loaded the packaged demo instead."""
    admin = api.auth(Role.ADMIN)
    applied = await api.client.post("/api/v1/reload", headers=admin)
    assert applied.status_code == 200, applied.text
    (tmp_path / "anfang.yaml").rename(tmp_path / "moved.yaml")
    refused = await api.client.post("/api/v1/reload", headers=admin)
    assert refused.status_code == 422
    assert "cannot read" in refused.json()["detail"]
    assert sorted(api.gw.runners) == ["panel"]
    assert api.gw.runners["panel"].status.state is InstanceState.RUNNING
    audits = api.gw.journal.reader.query(Filter.build(types=["audit"], kinds=["config"]))
    reloads = [a.content for a in audits]
    expected = [("ok", "127.0.0.1"), ("refused", "127.0.0.1")]
    assert [(r.result, r.remote) for r in reloads] == expected
    assert "cannot read" in reloads[1].detail["reason"]


async def test_device_edits_are_overrides_of_the_pins_and_audited(api: Api) -> None:
    admin = api.auth(Role.ADMIN)
    url = "/api/v1/devices/hq/panel-1/zone-2"
    moved = await api.client.patch(url, json={"name": "Vault door", "area": "vault"}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["name"] == "Vault door"
    assert moved.json()["overrides"] == {"name": "Vault door", "area": "vault"}
    bad = await api.client.patch(url, json={"area": "nowhere"}, headers=admin)
    assert bad.status_code == 422 and "no area named" in bad.json()["detail"]
    extra = await api.client.patch(url, json={"gb_code": "1" * 20}, headers=admin)
    assert extra.status_code == 422, "GB codes belong to the YAML"
    removed = await api.client.patch(url, json={"area": None}, headers=admin)
    assert removed.json()["overrides"] == {"name": "Vault door"}
    audits = api.gw.journal.reader.query(Filter.build(types=["audit"], kinds=["registry"]))
    assert [a.source for a in audits] == [url.removeprefix("/api/v1/devices/")] * 2


async def test_a_stream_far_behind_is_told_so(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.api import stream

    monkeypatch.setattr(stream, "BEHIND", 10)
    await api.publish(40)
    async with api.client.stream(
        "GET", "/api/v1/events/sse", params={"after": 0}, headers=api.auth(Role.VIEWER)
    ) as response:
        lines = []
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith("data: ") and '"n":' in line:
                break
    assert "event: lagging" in lines
    notice = json.loads(lines[lines.index("event: lagging") + 1][len("data: ") :])
    assert notice["behind"] > 10
