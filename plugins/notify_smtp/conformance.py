"""How the kit runs the e-mail notifier: against aiosmtpd on 127.0.0.1, in the kit's own loop.

The example config names a port picked when this module loads. The exercise serves SMTP there
with aiosmtpd (the real server library the tests use, run in this event loop, so no thread
outlives it), sends one notification with a Chinese subject through the journal, and checks
that the server received it intact and that the result says ``delivered``.
"""

from __future__ import annotations

import asyncio
import email
import socket
from email.message import Message
from email.policy import default
from typing import Any

from gateway.model.notify import NotifyRequest
from gateway.sdk import ConformanceSpec, Plugin

SUBJECT = "Conformance 报警测试"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    """aiosmtpd handler: keep every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK kept"


async def exercise(plugin: Plugin[Any]) -> None:
    from aiosmtpd.smtp import SMTP  # a test dependency: imported only when the kit runs

    from plugins.notify_smtp.plugin import SmtpNotifier

    if not isinstance(plugin, SmtpNotifier):
        raise TypeError("the exercise needs a running notify_smtp instance")
    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="kit.localhost"), "127.0.0.1", plugin.config.port
    )
    try:
        result = await plugin.notify_self(
            NotifyRequest(channel=plugin.ctx.instance_id, subject=SUBJECT, body="值班室请确认")
        )
        if result.status != "delivered":
            raise AssertionError(f"not delivered: {result.detail}")
        subjects = [str(m["Subject"]) for m in inbox.messages]
        if not any(SUBJECT in s for s in subjects):
            raise AssertionError(f"the server received {subjects}, not {SUBJECT!r}")
    finally:
        server.close()
        await server.wait_closed()


CONFORMANCE = ConformanceSpec(
    example_config={
        "host": "127.0.0.1",
        "port": _free_port(),
        "security": "none",
        "from_address": "anfang@localhost",
        "default_to": ["duty@localhost"],
        "attempts": 3,
        "backoff_s": 0.1,
        "timeout_s": 10,
    },
    exercise=exercise,
    run_s=0.5,
)
