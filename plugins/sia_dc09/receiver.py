"""What the receiver answers to one frame, and when: the DC-09 rules, transport-free.

The order matters for "no alarm lost" (GB 50348 §6.4.3): the frame is checked, a retransmission
is recognised, the events are published, and only when ``publish`` has returned — the events are
durable — is the ACK built. If the journal cannot write, there is no answer at all: the panel
repeats the frame, as DC-09 has it do for any missing ACK.

Answers: ACK (``*ACK`` for encrypted requests), NAK with the receiver's time for damaged frames
and encrypted frames outside the timestamp window, DUH for frames read correctly that cannot be
processed (unsupported token, no key for the account, strict mode's unknown accounts, a data
block with no known event).
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from gateway.journal import JournalWriteError
from gateway.model.event import Event
from gateway.sdk.accounts import account_decode_context, account_device
from gateway.sdk.codec import CodecError, DecodeContext
from plugins.sia_dc09.config import AccountConfig, ReceiverConfig
from plugins.sia_dc09.dc09 import (
    Dc09Error,
    Dc09Message,
    Key,
    KeyLookup,
    Reason,
    Token,
    Variant,
    Variants,
    build_ack,
    build_duh,
    build_nak,
    crc_format,
    parse_frame,
)
from plugins.sia_dc09.dedup import Deduplicator
from plugins.sia_dc09.mapping import frame_fingerprint, to_events

log = structlog.get_logger("anfang.plugin.sia_dc09")

REFUSALS_LOGGED = 100
"""Refused frames are logged one by one up to this many, then only counted: a sender spraying
garbage must not flood the log."""

Publish = Callable[[Event, "Account"], Awaitable[None]]
"""Registers what the event names and journals it; returns once it is durable."""
Alive = Callable[["Account"], Awaitable[None]]
"""The panel was heard (supervision); nothing to journal."""


@dataclass(frozen=True)
class Account:
    """A panel this receiver answers for, as configured (or as first heard, when unknown)."""

    account: str
    site: str
    key: Key | None
    variants: Variants
    known: bool
    name: str | None = None
    supervision_s: float | None = None
    plain_allowed: bool = True
    """False for an account with a key (unless configured): its unencrypted frames get DUH."""

    device: str = field(init=False, repr=False, compare=False)
    """The panel's registry address (asked for several times per frame: made once)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "device", account_device(self.site, self.account, self.known))

    def decode_context(self, now: datetime) -> DecodeContext:
        return account_decode_context(self.site, self.device, self.known, now)


def receiver_variants(config: ReceiverConfig) -> Variants:
    """The vendor variants a receiver accepts from every panel (an account adds its zone)."""
    return Variants(
        binary_crc=config.variants.binary_crc, decimal_length=config.variants.decimal_length
    )


def key_lookup(accounts: dict[str, Account]) -> KeyLookup:
    """``account -> key`` over the configured accounts, for the parser."""

    def key_for(number: str) -> Key | None:
        known = accounts.get(number.upper())
        return known.key if known else None

    return key_for


def accounts_from(config: ReceiverConfig, default_site: str) -> dict[str, Account]:
    variants = receiver_variants(config)
    out = {}
    for a in config.accounts:
        key = _key(a)
        out[a.account.upper()] = Account(
            account=a.account.upper(),
            site=a.site or default_site,
            key=key,
            variants=_account_variants(a, variants),
            known=True,
            name=a.name,
            supervision_s=a.supervision_s,
            plain_allowed=key is None or a.plain_allowed,
        )
    return out


def account_for(
    accounts: dict[str, Account], number: str, default_site: str, variants: Variants
) -> Account:
    """The configured account, or one as first heard (unknown, under the default site)."""
    number = number.upper()
    known = accounts.get(number)
    if known is not None:
        return known
    return Account(number, default_site, None, variants, known=False)


def parse_for_account(
    frame: bytes,
    accounts: dict[str, Account],
    keys: KeyLookup,
    default_site: str,
    variants: Variants,
    max_bytes: int,
) -> tuple[Dc09Message, Account]:
    """Parse a frame with its account's key (``keys``: :func:`key_lookup` of ``accounts``),
    and again in its panel's time zone when the account sends local time (the header names
    the account, the account the zone)."""
    message = parse_frame(frame, keys=keys, variants=variants, max_bytes=max_bytes)
    account = account_for(accounts, message.account, default_site, variants)
    if account.variants.local_time is not None:  # this panel sends local time
        message = parse_frame(frame, keys=keys, variants=account.variants, max_bytes=len(frame))
    return message, account


def refusal_of(
    config: ReceiverConfig, message: Dc09Message, account: Account
) -> tuple[str, str] | None:
    """Why a frame read correctly gets DUH from its account's receiver: the counter the
    receiver keeps for the reason and the reason in words; None when it is accepted."""
    if not account.known and config.strict:
        return "duh_unknown_account", "frame from an unknown account (strict)"
    if not message.encrypted and not account.plain_allowed:
        return "duh_plain_for_keyed_account", "unencrypted frame for an account with a key"
    return None


def _key(account: AccountConfig) -> Key | None:
    if account.key_hex is not None:
        return Key.from_hex(account.key_hex.get_secret_value())
    if account.key_ascii is not None:
        return Key.from_ascii(account.key_ascii.get_secret_value())
    return None


def _account_variants(account: AccountConfig, base: Variants) -> Variants:
    if account.timezone is None:
        return base
    return Variants(
        binary_crc=base.binary_crc,
        decimal_length=base.decimal_length,
        local_time=zoneinfo.ZoneInfo(account.timezone),
    )


class Receiver:
    def __init__(
        self,
        config: ReceiverConfig,
        accounts: dict[str, Account],
        default_site: str,
        publish: Publish,
        alive: Alive,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        counters: Counter[str],
        instance: str | None = None,
    ) -> None:
        self.instance = instance
        self.config = config
        self.accounts = accounts
        self.default_site = default_site
        self._publish = publish
        self._alive = alive
        self._refusals_logged = 0
        self._now = now
        self._monotonic = monotonic
        self.counters = counters
        self.dedup = Deduplicator(config.dedup_window_s)
        self._variants = receiver_variants(config)
        self._keys = key_lookup(accounts)
        self._early = timedelta(seconds=config.window_past_s)
        self._late = timedelta(seconds=config.window_future_s)

    def account(self, number: str) -> Account:
        return account_for(self.accounts, number, self.default_site, self._variants)

    async def handle(self, frame: bytes) -> bytes | None:
        """The response to one frame, or None when none may be sent (journal down)."""
        now = self._now()
        try:
            message, account = parse_for_account(
                frame,
                self.accounts,
                self._keys,
                self.default_site,
                self._variants,
                self.config.max_frame,
            )
            fp = None if message.token is Token.NULL else frame_fingerprint(message)
            repeat = fp is not None and self.dedup.is_repeat(fp, self._monotonic())
            # A repeat of a frame already journaled is ACKed even if its time has aged out of
            # the window: a NAK would make the panel re-stamp it and report the alarm twice.
            if not repeat:
                message.check_time(now, early=self._early, late=self._late)
        except Dc09Error as exc:
            return self.refuse(exc, now, frame)
        refusal = refusal_of(self.config, message, account)
        if refusal is not None:
            counter, reason = refusal
            self.counters[counter] += 1
            log.warning(
                f"{reason}: refused",
                instance=self.instance,
                account=account.account,
                token=str(message.token),
            )
            return build_duh(message)
        if Variant.DATA_ACCOUNT_DIFFERS in message.variants_seen:
            self.counters["data_account_differs"] += 1
            log.warning(
                "the data block names another account than the header; journaled under the "
                "header's and flagged",
                instance=self.instance,
                account=account.account,
            )
        return await self._accept(message, account, now, fp, repeat)

    def refuse(self, exc: Dc09Error, now: datetime, frame: bytes = b"") -> bytes:
        """NAK or DUH as DC-09 has it, in the CRC format the request used."""
        response = exc.reason.response
        self.counters[f"{response.lower()}_{exc.reason.value}"] += 1
        if self._refusals_logged < REFUSALS_LOGGED:
            self._refusals_logged += 1
            log.info(
                "frame refused",
                instance=self.instance,
                account=exc.header.account if exc.header is not None else None,
                answer=response,
                reason=exc.reason.value,
                detail=str(exc),
            )
        binary = binary_crc_of(frame)
        if response == "DUH" and exc.header is not None:
            return build_duh(exc.header, binary_crc=binary)
        return build_nak(now, binary_crc=binary)

    async def _accept(
        self, message: Dc09Message, account: Account, now: datetime, fp: str | None, repeat: bool
    ) -> bytes | None:
        """``repeat``: the frame was journaled before (judged in :meth:`handle`, nothing
        awaited since)."""
        ack = build_ack(message, now, account.key if message.encrypted else None)
        if fp is None:  # a link test: every one counts for supervision, none is a "repeat"
            return await self._heard(account, ack, "ack_null")
        if repeat:
            return await self._heard(account, ack, "repeats")
        pending = self.dedup.inflight(fp)
        if pending is not None:  # the same frame on another connection is being published
            try:
                await pending
            except RuntimeError:
                return None
            self.counters["repeats"] += 1
            return ack
        try:
            events = to_events(message, account.decode_context(now), fp=fp, plugin=self.instance)
        except CodecError as exc:
            self.counters["duh_data"] += 1
            log.info("data block cannot be processed", account=message.account, detail=str(exc))
            return build_duh(message)
        done = self.dedup.committed_part(fp)
        self.dedup.begin(fp)
        committed = False
        try:
            for index, event in enumerate(events):
                if index in done:  # journaled by an earlier, interrupted attempt
                    continue
                await self._publish(event, account)
                self.dedup.note_committed(fp, index)
            committed = True
        except JournalWriteError as exc:
            self.counters["unanswered_journal_down"] += 1
            log.error("not ACKed: the journal could not write", error=str(exc))
            return None
        finally:
            self.dedup.finish(fp, self._monotonic(), committed=committed)
        self.counters["ack"] += 1  # publishing told the registry the panel is alive
        return ack

    async def _heard(self, account: Account, ack: bytes, counter: str) -> bytes:
        """The panel is alive (supervision) even when there is nothing new to journal."""
        await self._still_alive(account)
        self.counters[counter] += 1
        return ack

    async def _still_alive(self, account: Account) -> None:
        """Supervision bookkeeping after the fact: its failure must not cost the ACK."""
        try:
            await self._alive(account)
        except JournalWriteError as exc:
            log.error("supervision restore not journaled", account=account.account, error=str(exc))

    def load_fingerprints(self, records: list[tuple[str, float, int, int]]) -> None:
        self.dedup.load(records, self._monotonic())

    def stats(self) -> dict[str, Any]:
        return {"dedup_entries": len(self.dedup), **self.counters}


def binary_crc_of(frame: bytes) -> bool:
    """Whether a request used the 2-byte binary CRC (``0LLL"`` right after it), so the answer
    uses it too ("reply in the same format"); hex otherwise."""
    return crc_format(frame.lstrip(b"\n")) == "binary"


__all__ = [
    "Account",
    "Reason",
    "Receiver",
    "account_for",
    "accounts_from",
    "binary_crc_of",
    "key_lookup",
    "parse_for_account",
    "receiver_variants",
    "refusal_of",
]
