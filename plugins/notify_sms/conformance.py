"""How the kit runs the SMS notifier: against the hand-written HTTP receiver on 127.0.0.1.

The example config describes a typical JSON SMS API (an API key in a header, the number and
text in the body, ``{"code": 0}`` for success). The exercise serves it for a moment, sends one
notification to the default number through the journal, and checks what arrived.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx

from gateway.model.notify import NotifyRequest
from gateway.sdk import ConformanceSpec, Plugin

API_KEY = "kit-api-key"
NUMBER = "+8613800000000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gateway_answer(request: Any) -> tuple[int, bytes]:
    ok = request.headers.get("x-api-key") == API_KEY
    return 200, json.dumps({"code": 0 if ok else 401}).encode()


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.notify_sms.plugin import SmsNotifier
    from plugins.notify_webhook.receiver import HttpReceiver

    if not isinstance(plugin, SmsNotifier):
        raise TypeError("the exercise needs a running notify_sms instance")
    port = httpx.URL(plugin.config.url).port  # the example's URL has no placeholder in it
    receiver = await HttpReceiver(respond=_gateway_answer).start(port or 0)
    try:
        result = await plugin.notify_self(
            NotifyRequest(channel=plugin.ctx.instance_id, subject="周界报警", body="东门 3 号防区")
        )
        if result.status != "delivered":
            raise AssertionError(f"not delivered: {result.detail}")
        sent = [json.loads(r.body) for r in receiver.requests]
        if {"mobile": NUMBER, "content": "周界报警: 东门 3 号防区"} not in sent:
            raise AssertionError(f"the gateway received {sent}")
    finally:
        await receiver.close()


CONFORMANCE = ConformanceSpec(
    example_config={
        "url": f"http://127.0.0.1:{_free_port()}/sms/send",
        "secrets": {"api_key": API_KEY},
        "headers": {"X-Api-Key": "{api_key}"},
        "body_format": "json",
        "body": {"mobile": "{to}", "content": "{text}"},
        "success": {"json_field": "code", "json_equals": "0"},
        "default_to": [NUMBER],
        "attempts": 3,
        "backoff_s": 0.1,
        "timeout_s": 10,
    },
    exercise=exercise,
    run_s=0.5,
)
