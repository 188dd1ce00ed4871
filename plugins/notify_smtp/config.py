"""The e-mail channel's settings: server, encryption, login, sender and default recipients."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from gateway.sdk.notifier import NotifierConfig

ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"  # local part: RFC 5322 atext and dots
    r"@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"  # a host name
)
"""A mail address as a relay takes it in RCPT TO: an ASCII local part, ``@``, a host name.
Deliberately plain: no comments, no quoted local parts, no spaces, CR or LF that could smuggle
a header or an SMTP command (non-ASCII addresses would need SMTPUTF8, which relays vary on)."""


def is_mail_address(text: str) -> bool:
    return len(text) <= 254 and ADDR_SPEC.match(text) is not None


class SmtpConfig(NotifierConfig):
    host: str = Field(min_length=1, description="SMTP server (your relay or submission host)")
    port: int = Field(
        default=587, ge=1, le=65535, description="587 for starttls, 465 for ssl, 25 for a relay"
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls: connect, then STARTTLS (refused if the server does not offer "
        "it); ssl: TLS from the first byte; none: no encryption (a relay on a trusted LAN only)",
    )
    verify_tls: bool = Field(
        default=True, description="check the server certificate and its name against `host`"
    )
    ca_file: Path | None = Field(
        default=None,
        description="CA certificate(s) (PEM) for the server's; default: system",
    )
    username: str | None = Field(default=None, description="login name, when the server wants one")
    password: SecretStr | None = Field(default=None, description="login password (use ${ENV})")
    from_address: str = Field(description="the sender address (envelope and From header)")
    from_name: str = Field(
        default="Anfang", max_length=100, description="display name in the From header"
    )
    default_to: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="recipients for requests that name none",
    )
    subject_prefix: str = Field(
        default="[Anfang] ", max_length=50, description="put before every subject"
    )
    local_hostname: str | None = Field(
        default=None, description="name given in EHLO; default: this machine's FQDN"
    )

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not is_mail_address(value):
            raise ValueError(f"{value!r} is not a mail address (name@example.com)")
        return value

    @field_validator("default_to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for i, address in enumerate(value):
            if not is_mail_address(address):
                raise ValueError(f"default_to[{i}]: {address!r} is not a mail address")
        return value

    @field_validator("from_name", "subject_prefix")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be one line (no CR or LF)")
        return value

    @model_validator(mode="after")
    def _login(self) -> SmtpConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: set both or neither")
        if self.password is not None and self.security == "none":
            raise ValueError(
                "a password would cross the network unencrypted: use security starttls or ssl"
            )
        if self.ca_file is not None and self.security == "none":
            raise ValueError("ca_file is set but security is none: nothing would use it")
        return self
