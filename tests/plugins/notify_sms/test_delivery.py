"""SMS through a local HTTP "SMS gateway": templates filled, one request per recipient, the
gateway's own success code honoured, failed recipients retried alone.

The gateway is the hand-written receiver (plugins/notify_webhook/receiver.py): the real peer
is whichever SMS provider the customer contracts, each with its own API — which is why the
plugin is a template and the tests describe two typical APIs with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.config.errors import ConfigError
from plugins.notify_sms.plugin import SmsNotifier
from plugins.notify_webhook.receiver import HttpReceiver, Received
from tests.sdk_notifier.helpers import (
    FAST_RETRIES,
    ask,
    gateway_for,
    journaled_results,
    notifier,
    result_of,
    running,
)

KEY = "sms-api-key-0042"


def json_api(url: str, **extra: Any) -> dict[str, Any]:
    """An API that takes JSON and answers ``{"code": 0}`` on success, 200 either way."""
    return {
        "url": url + "/v1/sms",
        "secrets": {"api_key": KEY},
        "headers": {"Authorization": "Bearer {api_key}"},
        "body_format": "json",
        "body": {"mobile": "{to}", "content": "{text}", "ref": "{id}"},
        "success": {"json_field": "result.code", "json_equals": "0"},
        **FAST_RETRIES,
        **extra,
    }


def answer_code(code_for: dict[str, int]) -> Any:
    def respond(request: Received) -> tuple[int, bytes]:
        mobile = json.loads(request.body)["mobile"]
        return 200, json.dumps({"result": {"code": code_for.get(mobile, 0)}}).encode()

    return respond


async def test_one_request_per_recipient_with_the_template_filled(tmp_path: Path) -> None:
    receiver = await HttpReceiver(respond=answer_code({})).start()
    try:
        config = json_api(receiver.url)
        async with running(gateway_for(tmp_path, SmsNotifier, config)) as gw:
            to = ["+8613800000001", "13900000002"]
            event = await ask(gw, subject="周界报警", body="东门 3 号防区\n请确认", to=to)
            result = await result_of(gw, event)
        assert result.status == "delivered", result.detail
        assert result.detail == "reached +8613800000001, 13900000002"
        bodies = [json.loads(r.body) for r in receiver.requests]
        assert bodies == [
            {
                "mobile": "+8613800000001",
                "content": "周界报警: 东门 3 号防区 请确认",
                "ref": event.id,
            },
            {"mobile": "13900000002", "content": "周界报警: 东门 3 号防区 请确认", "ref": event.id},
        ]
        for request in receiver.requests:
            assert request.path == "/v1/sms"
            assert request.headers["authorization"] == f"Bearer {KEY}"
            assert request.headers["content-type"] == "application/json; charset=utf-8"
    finally:
        await receiver.close()


async def test_a_get_api_gets_every_value_percent_encoded(tmp_path: Path) -> None:
    receiver = await HttpReceiver(respond=lambda _: (200, b"OK: 1 sent")).start()
    try:
        config = {
            "method": "GET",
            "url": receiver.url + "/send?user=anfang&key={api_key}&to={to}&msg={text}",
            "secrets": {"api_key": "k&y=1"},
            "body_format": "none",
            "success": {"regex": r"^OK: \d+ sent"},
            "default_to": ["+8613800000001"],
            **FAST_RETRIES,
        }
        async with running(gateway_for(tmp_path, SmsNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="A&B=1", body="x" * 300))
        assert result.status == "delivered", result.detail
        [request] = receiver.requests
        assert request.method == "GET"
        query = request.query
        assert query["key"] == "k&y=1", "a value cannot add a parameter"
        assert query["to"] == "+8613800000001"
        assert query["msg"].startswith("A&B=1: xxx") and len(query["msg"]) == 160
    finally:
        await receiver.close()


async def test_a_form_api_gets_form_fields(tmp_path: Path) -> None:
    receiver = await HttpReceiver().start()
    try:
        config = {
            "url": receiver.url + "/sms",
            "body": {"phone": "{to}", "message": "{text}", "incident": "{incident}"},
            **FAST_RETRIES,
        }
        async with running(gateway_for(tmp_path, SmsNotifier, config)) as gw:
            event = await ask(gw, subject="火警", to=["13900000002"], incident="inc-9")
            result = await result_of(gw, event)
        assert result.status == "delivered", result.detail
        [request] = receiver.requests
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert request.form == {"phone": "13900000002", "message": "火警", "incident": "inc-9"}
    finally:
        await receiver.close()


async def test_the_gateways_own_error_code_is_a_permanent_failure(tmp_path: Path) -> None:
    receiver = await HttpReceiver(respond=answer_code({"13900000002": 17})).start()
    try:
        async with running(gateway_for(tmp_path, SmsNotifier, json_api(receiver.url))) as gw:
            to = ["13900000001", "13900000002"]
            result = await result_of(gw, await ask(gw, subject="x", to=to))
        assert result.status == "failed"
        assert result.attempts == 1
        assert result.detail.startswith("permanent failure: reached 13900000001; refused")
        assert "13900000002: result.code is '17', not '0'" in result.detail
        assert len(receiver.requests) == 2
    finally:
        await receiver.close()


async def test_a_transient_failure_is_retried_for_that_recipient_only(tmp_path: Path) -> None:
    failing_once = {"13900000002"}

    def respond(request: Received) -> tuple[int, bytes]:
        mobile = json.loads(request.body)["mobile"]
        if mobile in failing_once:
            failing_once.discard(mobile)
            return 502, b"bad gateway"
        return 200, b'{"result": {"code": 0}}'

    receiver = await HttpReceiver(respond=respond).start()
    try:
        async with running(gateway_for(tmp_path, SmsNotifier, json_api(receiver.url))) as gw:
            to = ["13900000001", "13900000002"]
            result = await result_of(gw, await ask(gw, subject="x", to=to))
            assert notifier(gw).ctx.counters["retries"] == 1
        assert result.status == "delivered", result.detail
        assert result.attempts == 2
        mobiles = [json.loads(r.body)["mobile"] for r in receiver.requests]
        assert mobiles == ["13900000001", "13900000002", "13900000002"]
    finally:
        await receiver.close()


async def test_a_recipient_that_is_not_a_number_is_refused_and_the_rest_sent(
    tmp_path: Path,
) -> None:
    receiver = await HttpReceiver(respond=answer_code({})).start()
    try:
        async with running(gateway_for(tmp_path, SmsNotifier, json_api(receiver.url))) as gw:
            to = ["13900000001", "call the police"]
            result = await result_of(gw, await ask(gw, subject="x", to=to))
            assert len(journaled_results(gw)) == 1
        assert result.status == "failed"
        assert "call the police: does not match recipient_pattern" in result.detail
        assert [json.loads(r.body)["mobile"] for r in receiver.requests] == ["13900000001"]
    finally:
        await receiver.close()


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            {"body": {"mobile": "{to}", "content": "{txt}"}},
            "plugins[0].config.body",
            "body.content: unknown placeholder {txt}",
        ),
        (
            {"headers": {"Authorization": "Bearer {apikey}"}},
            "plugins[0].config.headers",
            "headers.Authorization: unknown placeholder {apikey}",
        ),
        ({"url": "https://sms.example/{to.real}"}, "plugins[0].config.url", "placeholder name"),
        ({"url": "sms.example/send"}, "plugins[0].config.url", "http or https"),
        ({"secrets": {"to": "x"}}, "plugins[0].config.secrets", "message placeholder"),
        ({"success": {"regex": "(("}}, "plugins[0].config.success.regex", "regular expression"),
        (
            {"success": {"json_equals": "0"}},
            "plugins[0].config.success.json_equals",
            "needs json_field",
        ),
        ({"default_to": ["phone"]}, "plugins[0].config.default_to", "recipient_pattern"),
        ({"method": "GET"}, "plugins[0].config", "GET request carries no body"),
        ({"max_segments": 0}, "plugins[0].config.max_segments", "greater than or equal to 1"),
    ],
)
def test_templates_are_checked_when_the_config_loads(
    tmp_path: Path, change: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        gateway_for(tmp_path, SmsNotifier, {**json_api("https://sms.example"), **change})
    rendered = [str(issue) for issue in caught.value.issues]
    assert any(i.startswith(path + ":") and message in i for i in rendered), rendered
    assert not any(KEY in i for i in rendered)


async def test_a_gateways_retry_after_holds_back_the_retry(tmp_path: Path) -> None:
    receiver = await HttpReceiver(respond=answer_code({})).start()
    receiver.fail_next(1, 429, retry_after="1")
    try:
        config = json_api(receiver.url, backoff_s=0.02, backoff_max_s=30)
        async with running(gateway_for(tmp_path, SmsNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x", to=["13900000001"]))
        assert result.status == "delivered", result.detail
        first, second = receiver.requests
        assert second.at - first.at >= 0.95, "the gateway asked for 1 s; backoff alone is 0.02 s"
    finally:
        await receiver.close()
