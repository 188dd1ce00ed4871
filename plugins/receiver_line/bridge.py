"""What the bridge answers to one line, and when: the receiver's rules, transport-free.

The order is what keeps an alarm from being lost (GB 50348 §6.4.3): the line is read, a
retransmission recognised, the events published, and only when ``publish`` has returned —
the events are durable — is ACK (0x06) returned. The receiver keeps the line until then: it
stores signals while the computer does not answer ("up to 255 messages per line card") and
repeats the unanswered line after its ACK wait.

Answers: ACK for a heartbeat and for a line journaled (or already journaled); NAK (0x15) for
a garbled line, which the receiver repeats at once, and for an unknown account when the
installer made the bridge strict; nothing when the journal cannot write (the receiver
repeats after its ACK wait, and goes to its own manual mode after four silent attempts,
still keeping the signal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from gateway.journal import JournalWriteError
from gateway.model.event import Event
from gateway.sdk.accounts import account_decode_context, account_device
from gateway.sdk.codec import DecodeContext
from gateway.sdk.context import PublishError
from plugins.receiver_line.config import LineConfig
from plugins.receiver_line.errors import LineError
from plugins.receiver_line.mapping import to_events
from plugins.receiver_line.messages import CidLine, Heartbeat, Message, SiaLine
from plugins.receiver_line.parse import parse_line
from plugins.receiver_line.repeats import RepeatGuard, Verdict, fingerprint

log = structlog.get_logger("anfang.plugin.receiver_line")

ACK = b"\x06"
NAK = b"\x15"

REFUSALS_LOGGED = 100
"""Refused lines are logged one by one up to this many, then only counted: a line full of
noise must not flood the log."""


@dataclass(frozen=True)
class Account:
    """A panel whose signals come through the receiver, as configured or as first heard."""

    account: str
    site: str
    known: bool
    name: str | None = None

    @property
    def device(self) -> str:
        return account_device(self.site, self.account, self.known)

    def decode_context(self, now: datetime) -> DecodeContext:
        return account_decode_context(self.site, self.device, self.known, now)


def accounts_from(config: LineConfig, default_site: str) -> dict[str, Account]:
    return {
        a.account.upper(): Account(a.account.upper(), a.site or default_site, True, a.name)
        for a in config.accounts
    }


Publish = Callable[[Event, "Account | None"], Awaitable[None]]
"""Registers what the event names and journals it; returns once it is durable."""
Heard = Callable[[], Awaitable[None]]
"""The receiver spoke (its supervision); nothing to journal unless it was offline."""


def account_for(accounts: dict[str, Account], number: str, default_site: str) -> Account:
    """The configured account, or one as first heard (unknown, under the default site)."""
    number = number.upper()
    known = accounts.get(number)
    if known is not None:
        return known
    return Account(number, default_site, known=False)


def account_of(message: Message, accounts: dict[str, Account], default_site: str) -> Account | None:
    """The panel a line speaks for; None for heartbeats and the receiver's own lines."""
    if isinstance(message, CidLine):
        return account_for(accounts, message.account, default_site)
    if isinstance(message, SiaLine) and not message.internal:
        return account_for(accounts, message.account, default_site)
    return None


class Bridge:
    def __init__(
        self,
        config: LineConfig,
        accounts: dict[str, Account],
        default_site: str,
        receiver: str,
        publish: Publish,
        heard: Heard,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        counters: Counter[str],
        instance: str | None = None,
    ) -> None:
        self.config = config
        self.accounts = accounts
        self.default_site = default_site
        self.receiver = receiver
        self.instance = instance
        self.counters = counters
        self.repeats = RepeatGuard(config.repeat_window_s, config.ack_guard_s)
        self._publish = publish
        self._heard = heard
        self._now = now
        self._monotonic = monotonic
        self._refusals_logged = 0

    def account(self, number: str) -> Account:
        return account_for(self.accounts, number, self.default_site)

    async def handle(self, item: bytes | LineError) -> bytes | None:
        """The answer to one line (or to the splitter's error), or None for no answer."""
        try:
            message = (
                item if isinstance(item, LineError) else parse_line(item, self.config.max_line)
            )
        except LineError as exc:
            message = exc
        if isinstance(message, LineError):
            return self._refuse(message)
        if isinstance(message, Heartbeat):
            await self._alive()
            self.counters["heartbeats"] += 1
            return ACK
        account = account_of(message, self.accounts, self.default_site)
        if account is not None and not account.known and self.config.strict:
            self.counters["nak_unknown_account"] += 1
            self._log_refusal("unknown account refused (strict)", account=account.account)
            return NAK
        return await self._accept(message, account)

    async def _accept(self, message: Message, account: Account | None) -> bytes | None:
        fp = fingerprint(message.raw)
        mono = self._monotonic()
        verdict = self.repeats.check(fp, mono)
        if verdict is Verdict.TOO_SOON:
            self.counters["repeats_unanswered"] += 1
            return None
        if verdict is Verdict.REPEAT:
            await self._alive()
            self.counters["repeats"] += 1
            self.repeats.acked(fp, mono)
            return ACK
        now = self._now()
        ctx = account.decode_context(now) if account else DecodeContext(self.default_site, now)
        events = to_events(message, ctx, self.receiver, plugin=self.instance, extra={"fp": fp})
        done = self.repeats.journaled_part(fp)
        try:
            for index, event in enumerate(events):
                if index in done:  # journaled by an earlier, interrupted attempt
                    continue
                await self._publish(event, account)
                self.repeats.note(fp, index)
        except JournalWriteError as exc:
            self.counters["unanswered_journal_down"] += 1
            log.error("not ACKed: the journal could not write", error=str(exc))
            return None
        except PublishError as exc:  # a mapping the gateway refuses: never ACK what is lost
            self.counters["nak_refused"] += 1
            log.error("line refused by the gateway; NAKed", line=message.raw, error=str(exc))
            return NAK
        mono = self._monotonic()
        self.repeats.complete(fp, mono)
        await self._alive()
        self.counters["ack"] += 1
        self.repeats.acked(fp, mono)
        return ACK

    def _refuse(self, exc: LineError) -> bytes:
        self.counters[f"nak_{exc.reason.value}"] += 1
        self._log_refusal("garbled line NAKed", reason=exc.reason.value, detail=str(exc))
        return NAK

    def _log_refusal(self, what: str, **fields: str) -> None:
        if self._refusals_logged < REFUSALS_LOGGED:
            self._refusals_logged += 1
            log.info(what, **fields)

    async def _alive(self) -> None:
        """Supervision bookkeeping after the fact: its failure must not cost the ACK."""
        try:
            await self._heard()
        except JournalWriteError as exc:
            log.error("receiver restore not journaled", error=str(exc))
