"""The webhook channel's settings: where to POST, the shared secret, extra headers, TLS."""

from __future__ import annotations

import re

import httpx
from pydantic import Field, SecretStr, field_validator

from gateway.sdk.notifier import NotifierConfig
from plugins.notify_webhook.http import HttpTls

TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
"""An HTTP header name (RFC 9110 §5.6.2 token)."""
RESERVED = frozenset({"content-type", "content-length", "host", "x-anfang-signature"})


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host; the error names what is missing."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, not {url.scheme or 'none'!r}")
    if not url.host:
        raise ValueError("the URL names no host")
    return value


def check_headers(headers: dict[str, str], reserved: frozenset[str] = RESERVED) -> dict[str, str]:
    for name, value in headers.items():
        if not TOKEN.match(name):
            raise ValueError(f"headers: {name!r} is not a header name")
        if name.lower() in reserved:
            raise ValueError(f"headers: {name} is set by the notifier itself")
        if "\r" in value or "\n" in value:
            raise ValueError(f"headers.{name}: must be one line (no CR or LF)")
    return headers


class WebhookConfig(NotifierConfig):
    url: str = Field(description="where to POST (http or https; use https off this machine)")
    secret: SecretStr = Field(
        description="shared HMAC-SHA256 key for X-Anfang-Signature (use ${ENV}; 16+ chars)",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="extra request headers, e.g. Authorization (values are never logged)",
    )
    tls: HttpTls = Field(default_factory=HttpTls, description="certificate checks for https")
    proxy: str | None = Field(
        default=None, description="HTTP proxy URL; environment proxies are ignored"
    )

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        length = len(value.get_secret_value())
        if length < 16:
            raise ValueError(f"must be at least 16 characters (it has {length})")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value)
