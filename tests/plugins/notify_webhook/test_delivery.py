"""Webhook notifications to a local HTTP receiver that checks the signature.

The receiver (plugins/notify_webhook/receiver.py) is hand-written: the real peer is whatever
the customer runs. Its signature check is the scheme of Anfang's own inbound webhook, and the
first test also checks the signature with contrib/webhook's own code.
"""

from __future__ import annotations

import importlib.util
import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config.errors import ConfigError
from plugins.notify_webhook.plugin import WebhookNotifier
from plugins.notify_webhook.receiver import HttpReceiver
from tests.conftest import REPO
from tests.sdk_notifier.helpers import (
    FAST_RETRIES,
    ask,
    gateway_for,
    journaled_results,
    notifier,
    result_of,
    running,
    until,
)

SECRET = "a-shared-secret-of-some-length"


def hook_config(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "secret": SECRET, **FAST_RETRIES, **extra}


def contrib_signature() -> Any:
    """contrib/webhook's own signature module (the inbound side), loaded from its file."""
    path = REPO / "contrib" / "webhook" / "anfang_plugin_webhook" / "signature.py"
    spec = importlib.util.spec_from_file_location("contrib_webhook_signature", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_notification_arrives_signed_with_its_ids(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    try:
        config = hook_config(receiver.url + "/hooks/anfang", headers={"Authorization": "Bearer t"})
        async with running(gateway_for(tmp_path, WebhookNotifier, config)) as gw:
            event = await ask(
                gw,
                subject="火警：二楼",
                body="烟感 12",
                incident="inc-7",
                rule="fire",
                escalation=2,
            )
            result = await result_of(gw, event)
        assert result.status == "delivered", result.detail
        assert result.detail == "HTTP 200"
        assert result.to == []
        [request] = receiver.requests
        assert (request.method, request.path) == ("POST", "/hooks/anfang")
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        assert request.headers["authorization"] == "Bearer t"
        assert request.headers["x-anfang-delivery"] == event.id
        assert request.headers["user-agent"].startswith("anfang-gateway/")
        contrib = contrib_signature()
        header = request.headers["x-anfang-signature"]
        assert contrib.verify(SECRET.encode(), request.body, header) is None
        assert contrib.verify(b"another secret entirely", request.body, header) is not None
        body = json.loads(request.body.decode("utf-8"))
        assert "火警" in request.body.decode("utf-8"), "UTF-8, not \\u escapes"
        assert body["type"] == "anfang.notification" and body["version"] == 1
        assert (body["id"], body["site"], body["source"]) == (event.id, "hq", "hq/incidents")
        assert body["attempt"] == 1
        assert datetime.fromisoformat(body["sent_at"]).tzinfo is not None
        assert body["request"] == {
            "channel": "ops",
            "to": [],
            "subject": "火警：二楼",
            "body": "烟感 12",
            "incident": "inc-7",
            "rule": "fire",
            "escalation": 2,
        }
    finally:
        await receiver.close()


async def test_server_errors_are_retried_until_accepted(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    receiver.fail_next(1, 503)
    receiver.fail_next(1, 429)
    receiver.fail_next(1, 408)
    try:
        async with running(gateway_for(tmp_path, WebhookNotifier, hook_config(receiver.url))) as gw:
            event = await ask(gw, subject="x")
            result = await result_of(gw, event)
            assert notifier(gw).ctx.counters["retries"] == 3
        assert result.status == "delivered"
        assert result.attempts == 4
        bodies = [json.loads(r.body) for r in receiver.requests]
        assert [b["attempt"] for b in bodies] == [1, 2, 3, 4]
        assert {b["id"] for b in bodies} == {event.id}, "one id on every attempt: de-duplicable"
    finally:
        await receiver.close()


@pytest.mark.parametrize(
    ("status", "words"), [(404, "HTTP 404"), (400, "HTTP 400"), (302, "redirect")]
)
async def test_a_client_error_or_redirect_fails_at_once(
    tmp_path: Path, status: int, words: str
) -> None:
    receiver = await HttpReceiver().start()
    receiver.fail_next(1, status)
    try:
        async with running(gateway_for(tmp_path, WebhookNotifier, hook_config(receiver.url))) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "failed"
        assert result.attempts == 1
        assert words in result.detail
        assert "failing on purpose" in result.detail, "the answer's text is kept for a person"
        assert len(receiver.requests) == 1
    finally:
        await receiver.close()


async def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=b"the receiver expects another secret").start()
    try:
        async with running(gateway_for(tmp_path, WebhookNotifier, hook_config(receiver.url))) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
            health = notifier(gw).health()
        assert result.status == "failed"
        assert result.attempts == 1
        assert result.detail.startswith("permanent failure: HTTP 401")
        assert receiver.refused_signatures == 1
        assert SECRET not in result.detail and SECRET not in str(health)
    finally:
        await receiver.close()


async def test_an_unreachable_receiver_is_retried_until_it_answers(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = hook_config(f"http://127.0.0.1:{port}/", attempts=100, backoff_max_s=0.05)
    async with running(gateway_for(tmp_path, WebhookNotifier, config)) as gw:
        plugin = notifier(gw)
        event = await ask(gw, subject="x")
        await until(lambda: plugin.ctx.counters["retries"] >= 2, "two refused connections")
        assert "no answer" in (plugin.health()["last_error"] or "")
        receiver = await HttpReceiver(secret=SECRET.encode()).start(port)
        try:
            result = await result_of(gw, event)
        finally:
            await receiver.close()
        assert result.status == "delivered"
        assert len(receiver.requests) == 1
        assert len(journaled_results(gw)) == 1


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"url": "ftp://example.com/x"}, "plugins[0].config.url", "http or https"),
        ({"url": "not a url"}, "plugins[0].config.url", ""),
        ({"secret": "short"}, "plugins[0].config.secret", "at least 16 characters (it has 5)"),
        ({"headers": {"X-A": "one\r\nInjected: yes"}}, "plugins[0].config.headers", "one line"),
        ({"headers": {"X-Anfang-Signature": "x"}}, "plugins[0].config.headers", "set by the"),
        ({"headers": {"bad name": "x"}}, "plugins[0].config.headers", "not a header name"),
        ({"tls": {"verify": "maybe"}}, "plugins[0].config.tls.verify", "boolean"),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, change: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        gateway_for(tmp_path, WebhookNotifier, {**hook_config("https://example.com/"), **change})
    rendered = [str(issue) for issue in caught.value.issues]
    assert any(i.startswith(path + ":") and message in i for i in rendered), rendered


async def test_retry_after_sets_the_least_wait_before_the_next_attempt(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    receiver.fail_next(1, 503, retry_after="1")
    try:
        config = hook_config(receiver.url, backoff_s=0.02, backoff_max_s=30)
        async with running(gateway_for(tmp_path, WebhookNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "delivered" and result.attempts == 2
        first, second = receiver.requests
        assert second.at - first.at >= 0.95, "the server asked for 1 s; backoff alone is 0.02 s"
    finally:
        await receiver.close()


async def test_a_retry_after_beyond_backoff_max_waits_backoff_max(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    receiver.fail_next(1, 429, retry_after="3600")
    try:
        # an hour asked, backoff_max_s 0.1 allowed: an alarm's notification does not wait an hour
        async with running(gateway_for(tmp_path, WebhookNotifier, hook_config(receiver.url))) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "delivered" and result.attempts == 2
    finally:
        await receiver.close()


async def test_the_retry_after_shows_in_the_failure(tmp_path: Path) -> None:
    receiver = await HttpReceiver(secret=SECRET.encode()).start()
    receiver.fail_next(1, 503, retry_after="120")
    try:
        config = hook_config(receiver.url, attempts=1)
        async with running(gateway_for(tmp_path, WebhookNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "failed"
        assert "HTTP 503" in result.detail and "(Retry-After 120 s)" in result.detail
    finally:
        await receiver.close()
