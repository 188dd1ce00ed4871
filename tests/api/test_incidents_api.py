"""Incident handling over real HTTP: what operators see and do, with problem details on refusal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.auth import Role
from gateway.model.event import Event
from tests.api.helpers import CONFIG, Api, running_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path, CONFIG) as client:
        yield client


async def opened(api: Api, kind: str, zone: int) -> str:
    alarm = Event(kind=kind, phase="alarm", priority=1, source=f"hq/panel-1/zone-{zone}")
    await api.gw.journal.append(alarm)
    for _ in range(1000):
        found = [i for i in api.gw.incidents.incidents.values() if alarm.id in i.triggers]
        if found:
            return found[0].id
        await asyncio.sleep(0.005)
    raise AssertionError("no incident opened")


async def test_an_operator_handles_a_hold_up_from_list_to_close(api: Api) -> None:
    operator, viewer = api.auth(Role.OPERATOR), api.auth(Role.VIEWER)
    incident_id = await opened(api, "panic.holdup", 1)
    await opened(api, "fire", 2)
    listing = (await api.client.get("/api/v1/incidents", headers=viewer)).json()["incidents"]
    assert [i["class"] for i in listing] == ["fire", "hold-up"]  # newest first
    only_holdup = await api.client.get(
        "/api/v1/incidents", params={"class": "hold-up", "state": "new"}, headers=viewer
    )
    assert [i["id"] for i in only_holdup.json()["incidents"]] == [incident_id]

    url = f"/api/v1/incidents/{incident_id}"
    ack = await api.client.post(f"{url}/ack", json={"note": "seen"}, headers=operator)
    assert ack.status_code == 200
    assert ack.json()["state"] == "acknowledged"
    assert ack.json()["acknowledged_by"] == "test-operator"
    again = await api.client.post(f"{url}/ack", headers=operator)
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
    assert again.headers["content-type"] == "application/problem+json"

    early = await api.client.post(f"{url}/close", json={"disposition": "real"}, headers=operator)
    assert early.status_code == 409 and "police receipt" in early.json()["detail"]
    receipt = await api.client.post(
        f"{url}/police-receipt", json={"reference": "110-77"}, headers=operator
    )
    assert receipt.json()["police"]["reference"] == "110-77"
    note = await api.client.post(f"{url}/notes", json={"text": "guard on site"}, headers=operator)
    assert [n["text"] for n in note.json()["notes"]] == ["seen", "guard on site"]
    closed = await api.client.post(f"{url}/close", json={"disposition": "real"}, headers=operator)
    assert closed.json()["state"] == "closed" and closed.json()["closed_by"] == "test-operator"
    read = (await api.client.get(url, headers=viewer)).json()
    assert read == closed.json()
    open_now = await api.client.get("/api/v1/incidents", params={"state": "open"}, headers=viewer)
    assert [i["class"] for i in open_now.json()["incidents"]] == ["fire"]


async def test_unknown_incidents_and_bad_bodies_are_refused_specifically(api: Api) -> None:
    operator = api.auth(Role.OPERATOR)
    missing = await api.client.post("/api/v1/incidents/nope/ack", headers=operator)
    assert missing.status_code == 404 and "no incident 'nope'" in missing.json()["detail"]
    incident_id = await opened(api, "fire", 3)
    empty = await api.client.post(
        f"/api/v1/incidents/{incident_id}/notes", json={"text": ""}, headers=operator
    )
    assert empty.status_code == 422 and empty.json()["detail"].startswith("body.text")
    extra = await api.client.post(
        f"/api/v1/incidents/{incident_id}/close", json={"reason": "x"}, headers=operator
    )
    assert extra.status_code == 422 and "reason" in extra.json()["detail"]
    bad_state = await api.client.get(
        "/api/v1/incidents", params={"state": "gone"}, headers=operator
    )
    assert bad_state.status_code == 422
