"""``notify_smtp``: e-mail notifications through an SMTP relay or submission server."""

from __future__ import annotations

import asyncio
import ssl

from gateway.sdk.notifier import Notification, NotifierPlugin, settle_recipients
from plugins.notify_smtp.config import SmtpConfig, is_mail_address
from plugins.notify_smtp.conformance import CONFORMANCE
from plugins.notify_smtp.message import build_message
from plugins.notify_smtp.transport import send, tls_context


class SmtpNotifier(NotifierPlugin[SmtpConfig]):
    name = "notify_smtp"
    version = "0.1.0"
    description = "E-mail notifier: notify.request to a UTF-8 MIME message over SMTP"
    protocols = ("smtp",)
    Config = SmtpConfig
    conformance = CONFORMANCE

    _tls: ssl.SSLContext | None = None

    async def open(self) -> None:
        self._tls = await asyncio.to_thread(tls_context, self.config)

    def default_recipients(self) -> list[str]:
        return list(self.config.default_to)

    async def deliver(self, n: Notification) -> str:
        for address in n.recipients:
            if address not in n.refused and not is_mail_address(address):
                n.refused[address] = "not a mail address"
        remaining = [r for r in n.recipients if r not in n.done and r not in n.refused]
        if not remaining:
            return settle_recipients(n, {})
        message = build_message(
            n,
            sender=self.config.from_address,
            sender_name=self.config.from_name,
            recipients=[r for r in n.recipients if r not in n.refused],
            subject_prefix=self.config.subject_prefix,
            now=self.ctx.clock.now(),
        )
        sent = await asyncio.to_thread(
            send, self.config, self._tls, message.as_bytes(), remaining, self.config.timeout_s
        )
        transient: dict[str, str] = {}
        for recipient in remaining:
            if recipient not in sent.refused:
                n.done.add(recipient)
                continue
            code, answer = sent.refused[recipient]
            if 500 <= code < 600:
                n.refused[recipient] = f"{code} {answer}"
            else:
                transient[recipient] = f"{code} {answer}"
        detail = settle_recipients(n, transient)
        return f"{detail} ({sent.reply})" if sent.reply else detail
