"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1): content, refusals, retries."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from gateway.journal import Journal
from plugins.notify_smtp.plugin import SmtpNotifier
from tests.plugins.notify_smtp.peer import Inbox, port_of, serve
from tests.sdk_notifier.helpers import (
    FAST_RETRIES,
    ask,
    gateway_for,
    journaled_results,
    notifier,
    request_event,
    result_of,
    running,
    until,
)


def smtp_config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "anfang@gateway.example",
        "default_to": ["duty@example.com"],
        **FAST_RETRIES,
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_chinese_notification_arrives_intact(tmp_path: Path) -> None:
    inbox = Inbox()
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            event = await ask(
                gw,
                subject="周界报警：东门 3 号防区",
                body="值班员请立即确认。\n第二行 – with ASCII too.",
                to=["guard@example.com", "chief@example.com"],
                incident="inc-42",
                rule="after-hours",
            )
            result = await result_of(gw, event)
        assert result.status == "delivered", result.detail
        assert result.to == ["guard@example.com", "chief@example.com"]
        assert "250 OK queued as m1" in result.detail
        [mail] = inbox.messages
        assert mail.mail_from == "anfang@gateway.example"
        assert mail.rcpt_tos == ["guard@example.com", "chief@example.com"]
        message = mail.message
        assert message["Subject"] == "[Anfang] 周界报警：东门 3 号防区"
        assert message["From"].addresses[0].addr_spec == "anfang@gateway.example"
        assert message["X-Anfang-Request"] == event.id
        assert message["X-Anfang-Incident"] == "inc-42"
        assert message["Message-ID"] == f"<anfang.{event.id}@gateway.example>"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_charset() == "utf-8"
        text = message.get_content().replace("\r\n", "\n")  # CRLF on the wire
        assert text.startswith("值班员请立即确认。\n第二行 – with ASCII too.\n")
        assert "incident inc-42" in text and "rule after-hours" in text
        assert all(b < 0x80 for b in mail.raw), "only 7-bit on the wire: any relay carries it"
    finally:
        server.close()


async def test_a_request_naming_nobody_goes_to_default_to(tmp_path: Path) -> None:
    inbox = Inbox()
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            result = await result_of(gw, await ask(gw, subject="test"))
        assert result.status == "delivered"
        assert inbox.messages[0].rcpt_tos == ["duty@example.com"]
    finally:
        server.close()


async def test_a_permanent_refusal_fails_without_retries(tmp_path: Path) -> None:
    inbox = Inbox(refuse_always={"ghost@example.com": "550 5.1.1 no such mailbox"})
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            result = await result_of(gw, await ask(gw, subject="x", to=["ghost@example.com"]))
            assert notifier(gw).ctx.counters["retries"] == 0
        assert result.status == "failed"
        assert result.attempts == 1
        assert "refused ghost@example.com: 550 5.1.1 no such mailbox" in result.detail
        assert inbox.transactions == 1
        assert inbox.messages == []
    finally:
        server.close()


async def test_one_refused_recipient_does_not_stop_the_others(tmp_path: Path) -> None:
    inbox = Inbox(refuse_always={"ghost@example.com": "550 5.1.1 no such mailbox"})
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            to = ["guard@example.com", "ghost@example.com", "not an address"]
            result = await result_of(gw, await ask(gw, subject="x", to=to))
        assert result.status == "failed", "a refused recipient is for a person to look at"
        assert result.attempts == 1
        assert result.detail.startswith("permanent failure: reached guard@example.com; refused")
        assert "not an address: not a mail address" in result.detail
        assert [m.rcpt_tos for m in inbox.messages] == [["guard@example.com"]]
    finally:
        server.close()


async def test_a_transient_recipient_refusal_is_retried_for_that_recipient_only(
    tmp_path: Path,
) -> None:
    inbox = Inbox(rcpt_replies={"chief@example.com": ["450 4.2.1 mailbox busy"]})
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            to = ["guard@example.com", "chief@example.com"]
            result = await result_of(gw, await ask(gw, subject="x", to=to))
        assert result.status == "delivered", result.detail
        assert result.attempts == 2
        assert [m.rcpt_tos for m in inbox.messages] == [
            ["guard@example.com"],
            ["chief@example.com"],
        ], "the guard got it once; only the chief was tried again"
    finally:
        server.close()


async def test_a_transient_data_refusal_is_retried_until_accepted(tmp_path: Path) -> None:
    inbox = Inbox(data_replies=["451 4.3.0 try again later", "421 4.3.2 shutting down"])
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
            assert notifier(gw).ctx.counters["retries"] == 2, result
        assert result.status == "delivered", result.detail
        assert result.attempts == 3
        assert len(inbox.messages) == 1
    finally:
        server.close()


async def test_a_permanent_data_refusal_is_final(tmp_path: Path) -> None:
    inbox = Inbox(data_replies=["554 5.7.1 message refused as spam"])
    server = await serve(inbox)
    try:
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            result = await result_of(gw, await ask(gw, subject="x"))
        assert result.status == "failed"
        assert result.attempts == 1
        assert result.detail == "permanent failure: 554 5.7.1 message refused as spam"
    finally:
        server.close()


async def test_a_server_that_is_down_is_retried_and_delivered_once_it_is_up(
    tmp_path: Path,
) -> None:
    port = free_port()
    inbox = Inbox()
    config = smtp_config(port, attempts=100, backoff_s=0.05, backoff_max_s=0.05)
    async with running(gateway_for(tmp_path, SmtpNotifier, config)) as gw:
        plugin = notifier(gw)
        event = await ask(gw, subject="server down")
        await until(lambda: plugin.ctx.counters["retries"] >= 2, "two refused connections")
        assert "Connection refused" in (plugin.health()["last_error"] or "")
        server = await serve(inbox, port)
        try:
            result = await result_of(gw, event)
        finally:
            server.close()
        assert result.status == "delivered", result.detail
        assert result.attempts >= 3
        assert len(inbox.messages) == 1
        assert len(journaled_results(gw)) == 1


async def test_requests_made_while_the_notifier_was_down_are_mailed_once_it_starts(
    tmp_path: Path,
) -> None:
    inbox = Inbox()
    server = await serve(inbox)
    try:
        async with await Journal.open(tmp_path / "data") as journal:
            owed = [request_event(subject=f"owed {i}") for i in range(3)]
            for event in owed:
                await journal.append(event)
        async with running(gateway_for(tmp_path, SmtpNotifier, smtp_config(port_of(server)))) as gw:
            results = [await result_of(gw, event) for event in owed]
        assert [r.status for r in results] == ["delivered"] * 3
        assert sorted(m.message["Subject"] for m in inbox.messages) == [
            "[Anfang] owed 0",
            "[Anfang] owed 1",
            "[Anfang] owed 2",
        ]
    finally:
        server.close()
