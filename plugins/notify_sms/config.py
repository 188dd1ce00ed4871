"""The SMS channel's settings: one HTTP request per recipient, described by templates.

Every template (URL, header values, body values) is checked when the config loads: an unknown
placeholder is an error at its key path (``plugins[0].config.body: body.content: unknown
placeholder {txt}``), not a message that fails at three in the morning.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.sdk.notifier import NotifierConfig
from plugins.notify_sms import template
from plugins.notify_webhook.config import check_headers, check_url
from plugins.notify_webhook.http import HttpTls

RESERVED_HEADERS = frozenset({"content-type", "content-length", "host"})


class Success(BaseModel):
    """How to tell that the gateway took the message; every test given must hold."""

    model_config = ConfigDict(extra="forbid")

    status: list[int] = Field(
        default_factory=list, description="accepted HTTP status codes; default: any 2xx"
    )
    regex: str | None = Field(
        default=None, description="a regular expression the answer body must contain"
    )
    json_field: str | None = Field(
        default=None, description="dotted path of a field in a JSON answer, e.g. result.code"
    )
    json_equals: str | None = Field(
        default=None, description="the value json_field must have (compared as text)"
    )

    @field_validator("status")
    @classmethod
    def _codes(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("json_equals")
    @classmethod
    def _pair(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("json_field") is None:
            raise ValueError("json_equals needs json_field")
        return value


class SmsConfig(NotifierConfig):
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="values templates may use by name ({api_key}); never logged (use ${ENV})",
    )
    method: Literal["POST", "GET", "PUT"] = Field(default="POST", description="HTTP method")
    url: str = Field(
        description="URL template; placeholders are percent-encoded, e.g. "
        "https://sms.example.com/send?to={to}&key={api_key}"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="header templates (e.g. Authorization)"
    )
    body_format: Literal["form", "json", "none"] = Field(
        default="form", description="form (urlencoded), json (an object of strings), or none"
    )
    body: dict[str, str] = Field(
        default_factory=dict,
        max_length=50,
        description='body fields, each a template, e.g. {"mobile": "{to}", "content": "{text}"}',
    )
    max_segments: int = Field(
        default=1,
        ge=1,
        le=10,
        description="longest text in SMS segments (160 GSM-7 or 70 UCS-2/Chinese characters "
        "in one); longer text is cut with an ellipsis",
    )
    recipient_pattern: str = Field(
        default=r"^\+?[0-9]{5,16}$",
        description="regular expression a recipient must match (default: digits, optional +)",
    )
    default_to: list[str] = Field(
        default_factory=list, max_length=100, description="recipients for requests naming none"
    )
    success: Success = Field(default_factory=Success, description="what counts as accepted")
    tls: HttpTls = Field(default_factory=HttpTls, description="certificate checks for https")
    proxy: str | None = Field(
        default=None, description="HTTP proxy URL; environment proxies are ignored"
    )

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not name.isidentifier():
                raise ValueError(f"secrets: {name!r} must be a name (letters, digits, _)")
            if name in template.MESSAGE_FIELDS:
                raise ValueError(f"secrets: {name!r} is a message placeholder; pick another")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        template.check(value, _known(info))
        check_url(template.render(value, dict.fromkeys(_known(info), "x")))
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_headers(value, RESERVED_HEADERS)
        for name, text in value.items():
            _at(f"headers.{name}", text, info)
        return value

    @field_validator("body")
    @classmethod
    def _body(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for name, text in value.items():
            _at(f"body.{name}", text, info)
        return value

    @field_validator("recipient_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("default_to")
    @classmethod
    def _recipients(cls, value: list[str], info: ValidationInfo) -> list[str]:
        pattern = info.data.get("recipient_pattern")
        for i, number in enumerate(value):
            if pattern is not None and not re.search(pattern, number):
                raise ValueError(f"default_to[{i}]: {number!r} does not match recipient_pattern")
        return value

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @model_validator(mode="after")
    def _body_fits_method(self) -> SmsConfig:
        if self.body and self.body_format == "none":
            raise ValueError("body is set but body_format is none: pick form or json")
        if self.body and self.method == "GET":
            raise ValueError("a GET request carries no body: put the fields in the url")
        return self


def _known(info: ValidationInfo) -> list[str]:
    secrets = info.data.get("secrets") or {}
    return [*template.MESSAGE_FIELDS, *secrets]


def _at(where: str, text: str, info: ValidationInfo) -> None:
    try:
        template.check(text, _known(info))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
