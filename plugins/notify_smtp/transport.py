"""Sending one message with smtplib (in a worker thread) and saying which failures are final.

SMTP says it in the reply code (RFC 5321 §4.2.1): 5yz is a permanent negative reply — the same
command will fail again — and 4yz a transient one. Connection trouble (refused, reset, timeout)
is transient; a certificate that does not verify, or a server without STARTTLS or AUTH when
the config asks for them, is a setting to fix, so permanent.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from gateway.sdk.notifier import DeliveryError
from plugins.notify_smtp.config import SmtpConfig


@dataclass(frozen=True)
class Sent:
    refused: dict[str, tuple[int, str]]
    """Recipients the server refused at RCPT TO, with its reply."""
    reply: str
    """The server's answer to the message data (``250 OK queued as …``); empty if none sent."""


def tls_context(config: SmtpConfig) -> ssl.SSLContext | None:
    """Built once at start (loading CA files reads the disk)."""
    if config.security == "none":
        return None
    ctx = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    if not config.verify_tls:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def send(
    config: SmtpConfig,
    tls: ssl.SSLContext | None,
    message: bytes,
    recipients: list[str],
    timeout_s: float,
) -> Sent:
    """Blocking: run it with ``asyncio.to_thread``. Raises DeliveryError."""
    try:
        return _send(config, tls, message, recipients, timeout_s)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(_reply(exc), permanent=500 <= exc.smtp_code < 600) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"the server does not support it: {exc}", permanent=True) from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"the server's certificate does not verify: {exc.verify_message} (set ca_file)",
            permanent=True,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused, reset, timeouts
        what = str(exc) or type(exc).__name__
        raise DeliveryError(f"{config.host}:{config.port}: {what}", permanent=False) from None


def _send(
    config: SmtpConfig,
    tls: ssl.SSLContext | None,
    message: bytes,
    recipients: list[str],
    timeout_s: float,
) -> Sent:
    if config.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=config.local_hostname,
            timeout=timeout_s,
            context=tls,
        )
    else:
        smtp = smtplib.SMTP(
            config.host, config.port, local_hostname=config.local_hostname, timeout=timeout_s
        )
    with smtp:
        smtp.ehlo()
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("STARTTLS is not offered (security starttls)")
            smtp.starttls(context=tls)
            smtp.ehlo()
        if config.username is not None and config.password is not None:
            smtp.login(config.username, config.password.get_secret_value())
        code, answer = smtp.mail(config.from_address)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, config.from_address)
        refused: dict[str, tuple[int, str]] = {}
        for recipient in recipients:
            code, answer = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, answer.decode("utf-8", "replace"))
        if len(refused) == len(recipients):
            smtp.rset()
            return Sent(refused, "")
        code, answer = smtp.data(message)
        if code != 250:  # data() raises only for the 354; the final reply is ours to judge
            raise smtplib.SMTPDataError(code, answer)
        return Sent(refused, f"{code} {answer.decode('utf-8', 'replace')}")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {text}"
