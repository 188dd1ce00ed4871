"""The HTTP side shared by the HTTP notifiers (webhook, SMS gateway): client, answer, verdict.

Which answers are worth another attempt (RFC 9110 §15): 2xx is done; 408 (request timeout),
425 (too early), 429 (too many requests) and every 5xx say "later"; any other 4xx says the
request itself is wrong (bad URL, bad credentials, refused content), so sending it again
cannot help. A 3xx is not followed — a notifier should be configured with the final URL, and
following a redirect would re-send the signed body somewhere nobody configured. A transient
answer's ``Retry-After`` (RFC 9110 §10.2.3) sets the least wait before the next attempt.
"""

from __future__ import annotations

import email.utils
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

import gateway
from gateway.sdk.notifier import DeliveryError

ANSWER_MAX = 4096
"""Bytes of an answer body read (for the detail and success patterns); the rest is dropped."""
RETRY_LATER = frozenset({408, 425, 429})
USER_AGENT = f"anfang-gateway/{gateway.__version__}"


class HttpTls(BaseModel):
    """TLS settings of an HTTP notifier (used for https URLs)."""

    model_config = ConfigDict(extra="forbid")

    verify: bool = Field(default=True, description="check the server certificate and name")
    ca_file: Path | None = Field(
        default=None, description="CA certificate(s) (PEM) for the server's; default: system"
    )


def make_client(tls: HttpTls, timeout_s: float, proxy: str | None) -> httpx.AsyncClient:
    """Blocking (reads CA files): build it with ``asyncio.to_thread``. Environment proxies are
    ignored (``trust_env`` off) so the config alone says where requests go."""
    verify: ssl.SSLContext | bool = False
    if tls.verify:
        verify = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    return httpx.AsyncClient(
        verify=verify,
        timeout=timeout_s,
        proxy=proxy,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    """The first ANSWER_MAX bytes of the body, as text."""
    retry_after_s: float | None = None


def retry_after(value: str | None, now: datetime) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait — delay-seconds or an HTTP-date (RFC
    9110 §10.2.3) —; None when there is none or it cannot be read."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """The answer; DeliveryError when none came (refused, reset, timed out: all transient).
    Never names the URL, which may carry a key: the caller says where it sent."""
    try:
        async with client.stream(
            method, url, content=content, data=data, headers=headers
        ) as response:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= ANSWER_MAX:
                    break
            return Answer(
                response.status_code,
                body[:ANSWER_MAX].decode("utf-8", "replace"),
                retry_after(response.headers.get("retry-after"), datetime.now(UTC)),
            )
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"no answer in time ({type(exc).__name__})", permanent=False) from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryError(f"no answer: {reason}", permanent=False) from None


def verdict(answer: Answer) -> DeliveryError | None:
    """None for a 2xx; otherwise the failure, permanent or not (see the module docstring)."""
    status = answer.status
    if 200 <= status < 300:
        return None
    snippet = " ".join(answer.text.split())[:200]
    reason = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if 300 <= status < 400:
        return DeliveryError(f"{reason} (a redirect: configure the final URL)", permanent=True)
    if 400 <= status < 500 and status not in RETRY_LATER:
        return DeliveryError(reason, permanent=True)
    if answer.retry_after_s is not None:
        reason += f" (Retry-After {answer.retry_after_s:g} s)"
    return DeliveryError(reason, permanent=False, retry_after_s=answer.retry_after_s)
