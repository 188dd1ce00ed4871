"""One notification as a MIME message: UTF-8 subject and body that survive any relay.

The body goes as ``text/plain; charset=utf-8`` in base64 or quoted-printable (``cte_type``
7bit), never raw 8-bit, so a relay without 8BITMIME cannot mangle 中文; a non-ASCII subject
becomes an RFC 2047 encoded word. The Message-ID is derived from the request id, the same on
every attempt, so a mail system that sees a retry twice can tell it is one message.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from gateway.sdk.notifier import Notification

POLICY = SMTP.clone(cte_type="7bit")
"""CRLF line ends (SMTP) and only 7-bit transfer encodings."""


def one_line(text: str) -> str:
    """A header value on one line: CR and LF (a header injection) become spaces."""
    return " ".join(text.replace("\r", "\n").split("\n")).strip()


def build_message(
    n: Notification,
    *,
    sender: str,
    sender_name: str,
    recipients: list[str],
    subject_prefix: str,
    now: datetime,
) -> EmailMessage:
    request = n.request
    msg = EmailMessage(policy=POLICY)
    local, _, domain = sender.partition("@")
    msg["From"] = Address(display_name=sender_name, username=local, domain=domain)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = one_line(subject_prefix + request.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<anfang.{n.id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to an alarm
    msg["X-Anfang-Request"] = n.id
    if request.incident is not None:
        msg["X-Anfang-Incident"] = one_line(request.incident)
    msg.set_content(_text(n), charset="utf-8")
    return msg


def _text(n: Notification) -> str:
    request = n.request
    facts = [f"request {n.id}", f"requested {n.requested_at.isoformat()}", f"by {n.source}"]
    if request.incident is not None:
        facts.append(f"incident {request.incident}")
    if request.rule is not None:
        facts.append(f"rule {request.rule}")
    if request.escalation is not None:
        facts.append(f"escalation {request.escalation}")
    body = request.body.rstrip("\n")
    return (body + "\n\n" if body else "") + "-- \nAnfang gateway: " + ", ".join(facts) + "\n"
