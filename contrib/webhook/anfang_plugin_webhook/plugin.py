"""The webhook plugin: an HTTP endpoint where cloud panels and devices POST alarm reports.

Each authenticated, valid POST becomes one event and is answered ``202 {"seq": N}`` only after
the journal's durable commit. A missing or wrong signature is ``401`` and counted
(``ctx.counters["requests_unauthorized"]``), never published. The sender is registered the
first time its account is heard and, when ``supervision_s`` is set, the registry raises
``device.offline`` if it falls silent.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from pathlib import Path
from typing import Any

from gateway.sdk import CodecSpec, ConformanceSpec, DecodeContext, Plugin, PluginContext
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .codec import MAX_BODY, parse_body
from .errors import WebhookError
from .http11 import Request, Response, error
from .mapping import decode, device_id, to_events
from .signature import HEADER, sign, verify
from .transport import HttpServer

CODEC = CodecSpec(
    name="webhook-json",
    description="JSON alarm report: {account, kind, phase, zone?, occurred_at?, text?, data?}",
    decode=decode,
    error=WebhookError,
    vectors=Path(__file__).parent / "vectors.json",
)


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in anfang.yaml is an error, not ignored

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8080, ge=0, le=65535, description="TCP port; 0 picks a free one")
    path: str = Field(
        default="/anfang/events",
        pattern=r"^/[A-Za-z0-9/_.-]*$",
        description="the URL path senders POST to",
    )
    secret: SecretStr = Field(
        min_length=16, description="HMAC-SHA256 key shared with senders; use ${WEBHOOK_SECRET}"
    )
    max_body_bytes: int = Field(
        default=MAX_BODY, ge=256, le=MAX_BODY, description="larger bodies get 413"
    )
    supervision_s: float | None = Field(
        default=None, gt=0, description="device.offline when an account is silent this long"
    )


def _post(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    """One request with the standard library's client (blocking: run it in a thread)."""
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


async def exercise(plugin: Plugin[Any]) -> None:
    """The conformance kit's peer: signed, unsigned and malformed requests, each with its status."""
    if not isinstance(plugin, WebhookPlugin):
        raise TypeError(f"expected WebhookPlugin, got {type(plugin).__name__}")
    config, secret = plugin.config, plugin.config.secret.get_secret_value().encode()
    good = b'{"account": "1234", "kind": "intrusion", "phase": "alarm", "zone": "5"}'
    restore = b'{"account": "1234", "kind": "intrusion", "phase": "restore", "zone": "5"}'
    bad = b'{"account": "1234", "kind": "intrusion"}'
    cases: tuple[tuple[str, str, bytes, dict[str, str], int], ...] = (
        ("POST", config.path, good, {HEADER: sign(secret, good)}, 202),
        ("POST", config.path, restore, {HEADER: sign(secret, restore)}, 202),
        ("POST", config.path, good, {}, 401),
        ("POST", config.path, good, {HEADER: sign(b"not the secret", good)}, 401),
        ("POST", config.path, bad, {HEADER: sign(secret, bad)}, 400),
        ("GET", config.path, b"", {}, 405),
        ("POST", config.path + "/elsewhere", good, {HEADER: sign(secret, good)}, 404),
    )
    for method, path, body, headers, expected in cases:
        status, answer = await asyncio.to_thread(
            _post, config.host, plugin.port, path, body, headers, method
        )
        if status != expected:
            raise AssertionError(f"{method} {path} {body!r}: expected {expected}, got {status}")
        if expected == 202 and not isinstance(answer.get("seq"), int):
            raise AssertionError(f"202 without a journal seq: {answer}")


class WebhookPlugin(Plugin[WebhookConfig]):
    name = "webhook"
    version = "0.1.0"
    description = "Generic JSON webhook alarm input (HMAC-SHA256 signed POSTs)"
    protocols = ("webhook-json",)
    Config = WebhookConfig
    device_kinds = ("panel",)
    codecs = (CODEC,)
    conformance = ConformanceSpec(
        example_config={"host": "127.0.0.1", "port": 0, "secret": "conformance-kit-secret"},
        exercise=exercise,
    )

    def __init__(self, config: WebhookConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.server = HttpServer(
            self._handle, host=config.host, port=config.port, max_body=config.max_body_bytes
        )
        self._secret = config.secret.get_secret_value().encode("utf-8")
        self._known: set[str] = set()

    async def start(self) -> None:
        await self.server.start()
        self.ctx.log.info("listening", host=self.config.host, port=self.server.port)

    async def stop(self) -> None:
        await self.server.close()

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked for port 0)."""
        return self.server.port

    async def _handle(self, request: Request) -> Response:
        """Route, authenticate, decode, publish; a 202 only once the event is durable."""
        if request.path != self.config.path:
            return error(404, "not found")
        if request.method != "POST":
            return error(405, "use POST", ("Allow", "POST"))
        refused = verify(self._secret, request.body, request.headers.get(HEADER.lower()))
        if refused is not None:
            self.ctx.counters["requests_unauthorized"] += 1
            self.ctx.log.warning("unauthorized request", reason=refused)
            return error(401, refused, ("WWW-Authenticate", f'HMAC-SHA256 header="{HEADER}"'))
        decode_ctx = DecodeContext(site=self.ctx.site, now=self.ctx.clock.now())
        try:
            report = parse_body(request.body)
            events = to_events(report, decode_ctx, request.body.decode("utf-8"))
        except WebhookError as exc:
            self.ctx.counters["requests_invalid"] += 1
            return error(400, str(exc))
        self._register(decode_ctx.address(device_id(report.account)), report.account)
        seq = 0
        for event in events:
            seq = await self.ctx.publish(event)
        return Response(202, {"seq": seq})

    def _register(self, address: str, account: str) -> None:
        if address in self._known:
            return
        registry = self.ctx.registry
        registry.upsert_device(address, kind="panel", plugin=self.ctx.instance_id, local_id=account)
        if self.config.supervision_s is not None:
            registry.supervise(address, self.config.supervision_s)
        self._known.add(address)
