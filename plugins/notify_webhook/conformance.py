"""How the kit runs the webhook notifier: against the hand-written receiver on 127.0.0.1.

The example config names a port picked when this module loads; the exercise serves HTTP there
for a moment (checking the signature with the example's secret), sends one notification
through the journal, and checks that it arrived signed and that the result says ``delivered``.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx

from gateway.model.notify import NotifyRequest
from gateway.sdk import ConformanceSpec, Plugin

SECRET = "conformance-kit-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.notify_webhook.plugin import WebhookNotifier
    from plugins.notify_webhook.receiver import HttpReceiver

    if not isinstance(plugin, WebhookNotifier):
        raise TypeError("the exercise needs a running notify_webhook instance")
    port = httpx.URL(plugin.config.url).port
    receiver = await HttpReceiver(secret=SECRET.encode()).start(port or 0)
    try:
        result = await plugin.notify_self(
            NotifyRequest(channel=plugin.ctx.instance_id, subject="conformance 测试")
        )
        if result.status != "delivered":
            raise AssertionError(f"not delivered: {result.detail}")
        bodies = [json.loads(r.body) for r in receiver.requests]
        if not any(b["id"] == result.request for b in bodies):
            raise AssertionError("the receiver never got the request's id")
    finally:
        await receiver.close()


CONFORMANCE = ConformanceSpec(
    example_config={
        "url": f"http://127.0.0.1:{_free_port()}/anfang/notify",
        "secret": SECRET,
        "attempts": 3,
        "backoff_s": 0.1,
        "timeout_s": 10,
    },
    exercise=exercise,
    run_s=0.5,
)
