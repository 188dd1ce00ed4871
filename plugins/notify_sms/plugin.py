"""``notify_sms``: SMS through an HTTP SMS gateway, one request per recipient, from templates."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx

from gateway.sdk.notifier import DeliveryError, Notification, NotifierPlugin, settle_recipients
from plugins.notify_sms import template
from plugins.notify_sms.config import SmsConfig, Success
from plugins.notify_sms.conformance import CONFORMANCE
from plugins.notify_sms.text import sms_text
from plugins.notify_webhook import http


class SmsNotifier(NotifierPlugin[SmsConfig]):
    name = "notify_sms"
    version = "0.1.0"
    description = "SMS notifier: notify.request to any HTTP SMS gateway, from request templates"
    protocols = ("https", "http")
    Config = SmsConfig
    conformance = CONFORMANCE

    _client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = await asyncio.to_thread(
            http.make_client, self.config.tls, self.config.timeout_s, self.config.proxy
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def default_recipients(self) -> list[str]:
        return list(self.config.default_to)

    async def deliver(self, n: Notification) -> str:
        transient: dict[str, str] = {}
        wait_s: float | None = None  # the longest Retry-After a transient failure carried
        for recipient in n.recipients:
            if recipient in n.done or recipient in n.refused:
                continue
            if not re.search(self.config.recipient_pattern, recipient):
                n.refused[recipient] = "does not match recipient_pattern"
                continue
            try:
                await self._send_one(n, recipient)
            except DeliveryError as exc:
                if exc.permanent:
                    n.refused[recipient] = exc.reason
                else:
                    transient[recipient] = exc.reason
                    if exc.retry_after_s is not None:
                        wait_s = max(wait_s or 0.0, exc.retry_after_s)
            else:
                n.done.add(recipient)
        return settle_recipients(n, transient, wait_s)

    async def _send_one(self, n: Notification, recipient: str) -> None:
        assert self._client is not None, "open() makes the client before any delivery"
        cfg = self.config
        values = self._values(n, recipient)
        url = template.render(cfg.url, values, template.url_escape)
        headers = {
            k: template.render(v, values, template.header_escape) for k, v in cfg.headers.items()
        }
        fields = {k: template.render(v, values) for k, v in cfg.body.items()}
        content: bytes | None = None
        data: dict[str, str] | None = None
        if cfg.body_format == "json" and cfg.body:
            content = json.dumps(fields, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        elif cfg.body_format == "form" and cfg.body:
            data = fields
        answer = await http.send(
            self._client, cfg.method, url, content=content, data=data, headers=headers
        )
        failure = http.verdict(answer)
        if failure is not None:
            raise failure
        refusal = _refusal(cfg.success, answer.status, answer.text)
        if refusal is not None:
            raise DeliveryError(refusal, permanent=True)

    def _values(self, n: Notification, recipient: str) -> dict[str, str]:
        request = n.request
        values = {
            "to": recipient,
            "text": sms_text(request.subject, request.body, self.config.max_segments),
            "subject": request.subject,
            "body": request.body,
            "id": n.id,
            "incident": request.incident or "",
            "rule": request.rule or "",
            "channel": request.channel,
            "site": self.ctx.site,
        }
        for name, secret in self.config.secrets.items():
            values[name] = secret.get_secret_value()
        return values


def _refusal(success: Success, status: int, answer: str) -> str | None:
    """Why a 2xx answer still is not an acceptance (gateways answer 200 with an error code)."""
    snippet = " ".join(answer.split())[:200]
    if success.status and status not in success.status:
        return f"HTTP {status} is not in success.status: {snippet}"
    if success.regex is not None and re.search(success.regex, answer) is None:
        return f"the answer does not match success.regex: {snippet}"
    if success.json_field is not None:
        value = _field(answer, success.json_field)
        if value is None:
            return f"the answer has no {success.json_field}: {snippet}"
        if success.json_equals is not None and value != success.json_equals:
            return f"{success.json_field} is {value!r}, not {success.json_equals!r}: {snippet}"
    return None


def _field(answer: str, path: str) -> str | None:
    """The JSON answer's value at a dotted path, as text; None when absent or not JSON."""
    try:
        node: Any = json.loads(answer)
    except ValueError:
        return None
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, str) else json.dumps(node)
