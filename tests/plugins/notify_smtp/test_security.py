"""STARTTLS, implicit TLS and login against aiosmtpd; the password never leaves the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.config.errors import ConfigError
from plugins.notify_smtp.plugin import SmtpNotifier
from tests.plugins.notify_smtp.peer import Inbox, password_checker, port_of, self_signed, serve
from tests.plugins.notify_smtp.test_delivery import smtp_config
from tests.sdk_notifier.helpers import (
    ask,
    gateway_for,
    journaled_results,
    result_of,
    running,
)

PASSWORD = "correct horse battery staple 42"


async def test_starttls_and_login_deliver(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server_tls, cert = self_signed(tmp_path)
    inbox = Inbox()
    server = await serve(
        inbox, starttls=server_tls, authenticator=password_checker("anfang", PASSWORD)
    )
    config = smtp_config(
        port_of(server),
        security="starttls",
        ca_file=str(cert),
        username="anfang",
        password=PASSWORD,
    )
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="over TLS"))
            journal = [r.payload or b"" for r in gw.journal.reader.query(_all(), limit=10_000)]
        assert result.status == "delivered", result.detail
        assert len(inbox.messages) == 1
        assert not any(PASSWORD.encode() in p for p in journal), "the password is not journaled"
        out, err = capfd.readouterr()
        assert PASSWORD not in out + err, "the password is not logged"
    finally:
        server.close()


async def test_a_wrong_password_is_a_permanent_failure(tmp_path: Path) -> None:
    server_tls, cert = self_signed(tmp_path)
    inbox = Inbox()
    server = await serve(
        inbox, starttls=server_tls, authenticator=password_checker("anfang", PASSWORD)
    )
    config = smtp_config(
        port_of(server),
        security="starttls",
        ca_file=str(cert),
        username="anfang",
        password="not the password",
    )
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "failed"
        assert result.attempts == 1
        assert result.detail.startswith("permanent failure: 535")
        assert "not the password" not in result.detail
        assert inbox.messages == []
    finally:
        server.close()


async def test_a_certificate_that_does_not_verify_is_a_permanent_failure(tmp_path: Path) -> None:
    server_tls, _ = self_signed(tmp_path)
    server = await serve(Inbox(), starttls=server_tls)
    try:
        config = smtp_config(port_of(server), security="starttls")  # system CAs only
        async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "failed"
        assert result.attempts == 1
        assert "certificate does not verify" in result.detail
    finally:
        server.close()


async def test_starttls_refused_by_a_server_that_does_not_offer_it(tmp_path: Path) -> None:
    server = await serve(Inbox())  # plain SMTP: no STARTTLS in its EHLO answer
    try:
        config = smtp_config(port_of(server), security="starttls")
        async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
            assert len(journaled_results(gw)) == 1
        assert result.status == "failed"
        assert "STARTTLS is not offered" in result.detail
    finally:
        server.close()


async def test_implicit_tls_delivers(tmp_path: Path) -> None:
    server_tls, cert = self_signed(tmp_path)
    inbox = Inbox()
    server = await serve(inbox, implicit_tls=server_tls)
    try:
        config = smtp_config(port_of(server), security="ssl", ca_file=str(cert))
        async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
            result = await result_of(gw, await ask(gw, subject="over TLS from the first byte"))
        assert result.status == "delivered", result.detail
        assert inbox.messages[0].message["Subject"] == "[Anfang] over TLS from the first byte"
    finally:
        server.close()


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"password": "x" * 20}, "plugins[0].config", "username and password go together"),
        (
            {"username": "u", "password": "x" * 20, "security": "none"},
            "plugins[0].config",
            "unencrypted",
        ),
        ({"from_address": "anfang"}, "plugins[0].config.from_address", "not a mail address"),
        ({"default_to": ["ok@example.com", "a@b\r\nRCPT"]}, "plugins[0].config.default_to", "[1]"),
        ({"port": 0}, "plugins[0].config.port", "greater than or equal to 1"),
        ({"security": "tls"}, "plugins[0].config.security", "'starttls', 'ssl' or 'none'"),
        ({"attempts": 0}, "plugins[0].config.attempts", "greater than or equal to 1"),
        ({"backoff_s": 10, "backoff_max_s": 1}, "plugins[0].config", "backoff_max_s"),
        ({"colour": "red"}, "plugins[0].config.colour", "unknown key"),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, change: dict[str, Any], path: str, message: str
) -> None:
    config = {**smtp_config(25), "security": "starttls", **change}
    with pytest.raises(ConfigError) as caught:
        gateway_for(tmp_path, SmtpNotifier, config)
    rendered = [str(issue) for issue in caught.value.issues]
    assert any(i.startswith(path + ":") and message in i for i in rendered), rendered
    assert not any("x" * 20 in i for i in rendered), "a password is never echoed"


def _all() -> Any:
    from gateway.journal import Filter

    return Filter.everything()
