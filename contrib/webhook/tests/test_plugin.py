"""The plugin in a real gateway on a real journal, with real HTTP clients as senders.

The senders are the standard library's ``http.client`` and, when installed, ``curl`` running
the README's example; raw sockets only for what a well-behaved client never sends.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conformance import check_plugin
from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.sdk.discovery import discover

from anfang_plugin_webhook.plugin import WebhookPlugin
from anfang_plugin_webhook.signature import HEADER, sign

SECRET = "test-secret-0123456789"
BODY = (
    b'{"account": "1234", "kind": "intrusion", "phase": "alarm", "zone": "5", "text": "Back door"}'
)
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config = tmp_path / "anfang.yaml"
    config.write_text(
        "site: {id: hq}\n"
        "plugins:\n"
        "  - id: hook\n"
        "    plugin: webhook\n"
        f"    config: {{host: 127.0.0.1, port: 0, secret: {SECRET}, max_body_bytes: 1024}}\n"
    )
    installed = discover(extra=[WebhookPlugin])
    gw = Gateway(load_config(config, installed.classes), installed, data_dir=tmp_path / "data")
    await gw.start()
    try:
        for _ in range(200):
            if gw.runners["hook"].status.state is InstanceState.RUNNING:
                break
            await asyncio.sleep(0.01)
        yield gw
    finally:
        await gw.stop()


def plugin_of(gw: Gateway) -> WebhookPlugin:
    plugin = gw.runners["hook"].plugin
    assert isinstance(plugin, WebhookPlugin)
    return plugin


def request(
    port: int, body: bytes, headers: dict[str, str], method: str = "POST", path: str = ""
) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path or "/anfang/events", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read()), response
    finally:
        connection.close()


async def send(
    gw: Gateway, body: bytes, headers: dict[str, str] | None = None, **kw: str
) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
    signed = {HEADER: sign(SECRET.encode(), body)} if headers is None else headers
    return await asyncio.to_thread(request, plugin_of(gw).port, body, signed, **kw)


async def test_a_signed_report_is_answered_202_with_its_journal_seq(gateway: Gateway) -> None:
    status, answer, _ = await send(gateway, BODY)
    assert status == 202
    (record,) = gateway.journal.reader.query(Filter.build(kinds=["intrusion"]))
    assert answer == {"seq": record.seq}
    assert record.source == "hq/acct-1234/zone-5" and record.phase == "alarm"
    assert record.event.raw == BODY.decode() and record.event.plugin == "hook"
    device = gateway.registry.get_device("hq/acct-1234")
    assert device is not None and device.plugin == "hook"


async def test_wrong_or_missing_signatures_are_401_counted_and_never_published(
    gateway: Gateway,
) -> None:
    for headers in ({}, {HEADER: sign(b"a different secret", BODY)}, {HEADER: "md5=abc"}):
        status, answer, response = await send(gateway, BODY, headers)
        assert status == 401, answer
        assert HEADER in answer["error"] and response.getheader("WWW-Authenticate")
    assert plugin_of(gateway).ctx.counters["requests_unauthorized"] == 3
    assert gateway.journal.reader.query(Filter.build(kinds=["intrusion"])) == []


async def test_bad_bodies_get_400_with_the_reason(gateway: Gateway) -> None:
    cases = {
        b'{"account": "1234", "kind": "intrusion"}': "phase None must be one of",
        b'{"account": "1234", "kind": "intrusion", "phase": "alarm"': "body is not JSON",
        b'{"account": "1234", "kind": "nope", "phase": "alarm"}': "not in the core kind table",
    }
    for body, reason in cases.items():
        status, answer, _ = await send(gateway, body)
        assert (status, reason in answer["error"]) == (400, True), answer
    assert gateway.journal.reader.query(Filter.build(kinds=["intrusion"])) == []


async def test_wrong_method_path_and_size(gateway: Gateway) -> None:
    status, _, response = await send(gateway, b"", {}, method="GET")
    assert status == 405 and response.getheader("Allow") == "POST"
    assert (await send(gateway, BODY, path="/other"))[0] == 404
    big = b'{"account": "1234", "kind": "intrusion", "phase": "alarm", "text": "%s"}' % (
        b"x" * 1100
    )
    assert (await send(gateway, big))[0] == 413


async def test_malformed_http_is_refused_with_a_status(gateway: Gateway) -> None:
    port = plugin_of(gateway).port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /anfang/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 501 ")
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hello\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 400 ")
    writer.close()


async def test_the_conformance_exercise_passes_against_a_running_instance(
    gateway: Gateway,
) -> None:
    plugin = plugin_of(gateway)
    exercise = WebhookPlugin.conformance.exercise
    assert exercise is not None
    await exercise(plugin)
    assert plugin.ctx.counters["requests_unauthorized"] == 2
    assert len(gateway.journal.reader.query(Filter.build(kinds=["intrusion"]))) == 2


async def test_the_readme_curl_example_is_accepted(gateway: Gateway) -> None:
    assert shutil.which("curl") and shutil.which("openssl"), "the README example needs both"
    (script,) = re.findall(r"```sh\n(export WEBHOOK_SECRET.*?)```", README.read_text(), re.DOTALL)
    script = script.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{plugin_of(gateway).port}")
    script = re.sub(r"WEBHOOK_SECRET='[^']*'", f"WEBHOOK_SECRET='{SECRET}'", script)
    result = await asyncio.to_thread(
        subprocess.run, ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True
    )
    assert "HTTP/1.1 202 Accepted" in result.stdout, result.stdout + result.stderr
    (record,) = gateway.journal.reader.query(Filter.build(kinds=["intrusion"]))
    assert record.event.occurred_at.isoformat() == "2026-03-01T00:15:00+00:00"


async def test_passes_the_conformance_kit() -> None:
    report = await check_plugin(WebhookPlugin)  # the kit ships with anfang-gateway
    assert report.ok, report.render()
