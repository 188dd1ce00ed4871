"""What an operator sees per plugin instance, including what the plugin itself reports: a
notifier's failed delivery shows on the authenticated page, never on the open health check."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from gateway.auth import Role
from gateway.model.notify import NotifyRequest, request_event
from tests.api.helpers import running_api


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


async def test_instances_show_a_notifiers_last_failure_behind_a_login(tmp_path: Path) -> None:
    config = f"""\
site: {{id: hq}}
api: {{port: 0}}
plugins:
  - {{id: panel, plugin: panel}}
  - id: ops-hook
    plugin: notify_webhook
    config:
      url: http://127.0.0.1:{closed_port()}/hook
      secret: a-secret-of-sixteen-chars
      attempts: 1
"""
    async with running_api(tmp_path, config) as api:
        request = NotifyRequest(channel="ops-hook", subject="fire in the vault")
        event = request_event(
            request, source="hq/panel-1", priority=1, plugin="test", now=api.gw.clock.now()
        )
        await api.gw.journal.append(event)
        viewer = api.auth(Role.VIEWER)
        for _ in range(500):
            page = (await api.client.get("/api/v1/instances", headers=viewer)).json()
            hook = next(i for i in page["instances"] if i["id"] == "ops-hook")
            if hook["details"] and hook["details"]["failed"]:
                break
            await asyncio.sleep(0.02)
        assert hook["plugin"] == "notify_webhook" and hook["state"] == "running"
        assert hook["details"]["failed"] == 1
        reason = hook["details"]["last_error"]
        assert reason.startswith("no answer")
        panel = next(i for i in page["instances"] if i["id"] == "panel")
        assert panel["details"] is None  # the test panel reports nothing of its own
        health = (await api.client.get("/api/v1/health")).text
        assert reason not in health and "last_delivered_at" not in health
        assert (await api.client.get("/api/v1/instances")).status_code == 401
