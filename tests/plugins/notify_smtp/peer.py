"""aiosmtpd on 127.0.0.1 in the test's own event loop, with the replies a test asks for.

aiosmtpd is a real SMTP server implementation (it speaks EHLO, STARTTLS, AUTH, the reply
codes); its handler hooks let a test make it refuse a recipient or the data, with a permanent
5xx or a transient 4xx, a given number of times.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Inbox:
    """The server's handler: keeps messages, answers RCPT/DATA from queues when told to."""

    messages: list[Delivered] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    """address → replies for its next RCPT TO commands (then accepted)."""
    refuse_always: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    """Replies for the next DATA commands (then accepted)."""
    transactions: int = 0
    """MAIL FROM commands seen."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.transactions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        queued = self.rcpt_replies.get(address)
        if queued:
            return queued.pop(0)
        if address in self.refuse_always:
            return self.refuse_always[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        raw = envelope.content
        message = email.message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return f"250 OK queued as m{len(self.messages)}"


def password_checker(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == user.encode()
            and data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself

    return check


async def serve(
    inbox: Inbox,
    port: int = 0,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    authenticator: Any = None,
) -> asyncio.Server:
    def factory() -> SMTP:
        return SMTP(
            inbox,
            hostname="peer.localhost",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=authenticator,
            auth_require_tls=implicit_tls is None and starttls is not None,
        )

    return await asyncio.get_running_loop().create_server(
        factory, "127.0.0.1", port, ssl=implicit_tls
    )


def port_of(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the certificate file a client should trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "anfang test SMTP peer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "peer-cert.pem"
    key_file = directory / "peer-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, cert_file
