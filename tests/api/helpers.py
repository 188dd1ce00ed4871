"""A real gateway serving its API on 127.0.0.1, and a client with a token for each role."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from gateway.auth import Role
from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.model.event import Event
from gateway.sdk.discovery import discover
from tests.host.plugins import PanelPlugin

CONFIG = """\
site: {id: hq}
api: {port: 0}
plugins:
  - {id: panel, plugin: panel}
areas:
  - {name: vault, device: hq/panel-1, local_id: "1"}
"""


class Api:
    def __init__(self, gw: Gateway, tokens: dict[Role, str]) -> None:
        self.gw = gw
        self.tokens = tokens
        assert gw.api is not None
        self.base = f"http://127.0.0.1:{gw.api.port}"
        self.client = httpx.AsyncClient(base_url=self.base, timeout=10)

    def auth(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    async def publish(self, n: int, kind: str = "test.manual") -> list[int]:
        seqs = []
        for i in range(n):
            event = Event(
                kind=kind, phase="momentary", priority=4, source="hq/panel-1", data={"n": i}
            )
            seqs.append(await self.gw.journal.append(event))
        return seqs


@contextlib.asynccontextmanager
async def running_api(tmp_path: Path, config: str) -> AsyncIterator[Api]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(config)
    installed = discover(extra=[PanelPlugin])
    gw = Gateway(
        load_config(cfg, installed.classes), installed, data_dir=tmp_path / "data", serve_api=True
    )
    await gw.start()
    for _ in range(6000):  # up to 60 s on a loaded machine
        if gw.runners["panel"].status.state is InstanceState.RUNNING:
            break
        await asyncio.sleep(0.01)
    admin = (tmp_path / "data" / "admin.token").read_text().strip()
    assert gw.new_admin_token == admin
    tokens = {Role.ADMIN: admin}
    for role in (Role.VIEWER, Role.OPERATOR):
        _, tokens[role] = gw.auth.issue_token(f"test-{role.value}", role)
    client = Api(gw, tokens)
    try:
        yield client
    finally:
        await client.client.aclose()
        await gw.stop()
