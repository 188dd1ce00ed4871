"""``notify_webhook``: notifications POSTed as signed JSON (another Anfang, a chat bot, a PSIM)."""

from __future__ import annotations

import asyncio

import httpx

from gateway.sdk.notifier import Notification, NotifierPlugin
from plugins.notify_webhook import http, payload
from plugins.notify_webhook.config import WebhookConfig
from plugins.notify_webhook.conformance import CONFORMANCE
from plugins.notify_webhook.signature import HEADER, sign


class WebhookNotifier(NotifierPlugin[WebhookConfig]):
    name = "notify_webhook"
    version = "0.1.0"
    description = "Webhook notifier: notify.request POSTed as JSON with an HMAC-SHA256 signature"
    protocols = ("https", "http")
    Config = WebhookConfig
    conformance = CONFORMANCE
    needs_recipients = False  # the URL is the recipient; `to` is passed on in the body

    _client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = await asyncio.to_thread(
            http.make_client, self.config.tls, self.config.timeout_s, self.config.proxy
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, n: Notification) -> str:
        assert self._client is not None, "open() makes the client before any delivery"
        body = payload.body(n, site=self.ctx.site, now=self.ctx.clock.now())
        headers = {
            **self.config.headers,
            "Content-Type": "application/json; charset=utf-8",
            HEADER: sign(self.config.secret.get_secret_value().encode(), body),
            "X-Anfang-Delivery": n.id,
        }
        answer = await http.send(
            self._client, "POST", self.config.url, content=body, headers=headers
        )
        failure = http.verdict(answer)
        if failure is not None:
            raise failure
        return f"HTTP {answer.status}"
