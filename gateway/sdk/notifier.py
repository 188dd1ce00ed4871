"""The notifier base: read ``notify.request`` from the journal, deliver, journal ``notify.result``.

A notifier plugin (e-mail, webhook, SMS, …) only says how to deliver one request: subclass
:class:`NotifierPlugin`, give it a config derived from :class:`NotifierConfig`, and implement
``async deliver(notification) -> str`` (a detail for the result) that raises
:class:`DeliveryError` when it cannot. Everything else is here, once:

- requests arrive through the instance's durable cursor, so a request made while the notifier
  (or the whole gateway) was down is delivered when it is back;
- only requests whose ``channel`` is this instance's id are taken; others are passed over;
- transient failures are retried with doubling backoff, permanent ones are not;
- exactly one ``notify.result`` is journaled per request, and the cursor moves past a request
  only once it and every request before it have their result — a restart in the middle
  delivers again (at least once) instead of losing anything;
- several requests are delivered at once (``concurrency``) without letting the cursor run
  ahead of an unfinished one;
- a request whose data is not a valid :class:`~gateway.model.notify.NotifyRequest` gets a
  ``failed`` result naming what is wrong, and is counted; nothing a request says can stop the
  instance.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.journal import Consumer, Filter, JournalRecord, JournalWriteError
from gateway.journal.errors import JournalError
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.model.notify import REQUEST_KIND, RESULT_KIND, NotifyRequest, NotifyResult
from gateway.sdk.plugin import Plugin
from gateway.sdk.window import CommitWindow

if TYPE_CHECKING:
    from gateway.sdk.context import PluginContext

CURSOR = "requests"
"""The durable cursor's name (the context prefixes it with the instance id)."""
PENDING_LIMIT = 256
"""Requests taken from the journal but not yet passed by the cursor. A request that keeps
failing (its backoff can last minutes) holds the cursor back, not the requests behind it; this
bounds how many may finish meanwhile, and with it how much a restart may deliver twice were
it not for the finished-ahead record (``done/`` keys in ``ctx.state``)."""
IDLE_S = 0.1
"""Pause after an empty read (only while the journal closes), so it never spins."""
RESULT_RETRY_S = 1.0
"""First wait before journaling a result again after a journal write error (doubles to 30 s)."""
RECENT_RESULTS = 100
"""Results kept in memory for :meth:`NotifierPlugin.result_for` and status pages."""
DETAIL_MAX = 1000
"""``NotifyResult.detail`` holds at most this many characters."""
_DONE = "done/"
_FAILED = "failed/"
"""Attempts of a request that failed so far (kept until its result is journaled)."""


class DeliveryError(Exception):
    """Delivery failed. ``permanent``: trying again cannot help (a 5xx SMTP reply, an HTTP 4xx,
    a refused login), so no retry; otherwise (connection refused, timeout, 4xx SMTP, HTTP 5xx)
    the base tries again after its backoff."""

    def __init__(self, reason: str, *, permanent: bool, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after_s = retry_after_s
        """How long the server asked to wait (an HTTP ``Retry-After``); the next attempt waits
        at least that, up to ``backoff_max_s``."""


class NotifierConfig(BaseModel):
    """Retry, concurrency and age settings every notifier has; derive a plugin's config from it."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(
        default=5, ge=1, le=100, description="delivery attempts per request, the first included"
    )
    backoff_s: float = Field(
        default=2.0, gt=0, le=3600, description="wait before the first retry; doubles after each"
    )
    backoff_max_s: float = Field(
        default=300.0, gt=0, le=86_400, description="longest wait between two attempts"
    )
    timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="limit for one attempt (connect, send, answer)"
    )
    concurrency: int = Field(
        default=4, ge=1, le=64, description="attempts in progress at once (requests in parallel)"
    )
    max_age_s: float = Field(
        default=86_400.0,
        gt=0,
        description="a request older than this when first taken is not sent (result: failed, "
        "expired), so a notifier back after days does not page people about old alarms",
    )

    @model_validator(mode="after")
    def _backoff_in_order(self) -> NotifierConfig:
        if self.backoff_max_s < self.backoff_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s}) is smaller than backoff_s ({self.backoff_s})"
            )
        return self


NotifierConfigT = TypeVar("NotifierConfigT", bound=NotifierConfig)


@dataclass
class Notification:
    """One request as a notifier delivers it; the same object is passed to every attempt."""

    id: str
    """The ``notify.request`` event's id: put it on the message so receivers can de-duplicate."""
    seq: int
    request: NotifyRequest
    source: str
    """Who asked (the request event's source)."""
    requested_at: datetime
    recipients: list[str]
    """``request.to``, or the channel's default recipients when the request names none."""
    attempt: int = 0
    """1 on the first attempt."""
    done: set[str] = field(default_factory=set)
    """Recipients already served by an earlier attempt, for channels that send one message per
    recipient (SMS): a retry then goes only to the others."""
    refused: dict[str, str] = field(default_factory=dict)
    """Recipients refused for good (with why), for the same channels."""


class NotifierPlugin(Plugin[NotifierConfigT]):
    """Base of notifier plugins: subclass, set ``Config``, implement :meth:`deliver`.

    The cursor of a notifier seen for the first time starts at the journal's **beginning**, not
    its head: the requests for this channel already in the journal are exactly the ones made
    before the notifier first ran (the rules engine or incident tracker started first, or the
    instance was added by a reload after escalation already asked for it), and they are still
    owed. Nothing else is sent: other channels' requests are passed over, and a request older
    than ``max_age_s`` gets a ``failed`` result ("expired") instead of a late message. Starting
    at the head would lose those requests silently; the cost of the beginning is one scan of
    the journal's ``notify.request`` records on the very first start.
    """

    needs_recipients: ClassVar[bool] = True
    """False for channels that go to one configured place (a webhook URL)."""
    device_kinds = ("notifier",)

    def __init__(self, config: NotifierConfigT, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.address = f"{ctx.site}/{ctx.instance_id}"
        self.last_error: str | None = None
        """The last delivery error (of any attempt), for health reports; None until one."""
        self.last_error_at: datetime | None = None
        self.last_delivered_at: datetime | None = None
        self._window = CommitWindow()
        self._changed = asyncio.Condition()
        """Notified when a request is settled: room in the window, a new recent result."""
        self.recent: deque[NotifyResult] = deque(maxlen=RECENT_RESULTS)
        self._slots = asyncio.Semaphore(config.concurrency)
        self._done_ahead: dict[str, int] = {}
        self._consumer: Consumer | None = None
        self._in_flight = 0

    # -- what a subclass provides ----------------------------------------------------------------

    async def deliver(self, notification: Notification) -> str:
        """Deliver one attempt; return a short detail ("250 queued as 4F2A"), or raise
        :class:`DeliveryError`. Any other exception counts as a transient failure."""
        raise NotImplementedError

    def default_recipients(self) -> list[str]:
        """Recipients for a request that names none (a config's ``default_to``)."""
        return []

    async def open(self) -> None:
        """Take what deliveries share (an HTTP client) before the first request is read."""

    async def close(self) -> None:
        """Release what :meth:`open` took."""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        # Subscribe first: the cursor is saved at once, so a start that fails later still
        # leaves the requests made from now on owed to this channel.
        self._consumer = self.ctx.subscribe(
            Filter.build(kinds=(REQUEST_KIND,)), cursor=CURSOR, new_cursor_start="beginning"
        )
        self.ctx.registry.upsert_device(
            self.address, kind="notifier", plugin=self.ctx.instance_id, name=self.description
        )
        self._load_done_ahead(self._consumer.committed)
        await self.open()
        self.ctx.spawn(self._read_requests(self._consumer), name="requests")
        self.ctx.log.info(
            "notifier starting",
            cursor_at=self._consumer.committed,
            attempts=self.config.attempts,
            concurrency=self.config.concurrency,
        )

    async def stop(self) -> None:
        await self.close()

    def health(self) -> dict[str, Any]:
        """What a status page shows: last error, last delivery, backlog and counters."""
        c = self.ctx.counters
        return {
            "last_error": self.last_error,
            "last_error_at": None if self.last_error_at is None else self.last_error_at.isoformat(),
            "last_delivered_at": (
                None if self.last_delivered_at is None else self.last_delivered_at.isoformat()
            ),
            "pending": len(self._window),
            "in_flight": self._in_flight,
            "lag": getattr(self._consumer, "lag", None),  # None in an isolated child
            "delivered": c["delivered"],
            "failed": c["failed"],
            "retries": c["retries"],
            "requests_invalid": c["requests_invalid"],
        }

    async def result_for(self, request_id: str) -> NotifyResult:
        """Wait until the request with this event id has its result journaled (tests, the
        conformance exercise); only the last ``RECENT_RESULTS`` results are kept."""

        def found() -> NotifyResult | None:
            return next((r for r in self.recent if r.request == request_id), None)

        async with self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        result = found()
        assert result is not None
        return result

    async def notify_self(self, request: NotifyRequest, timeout_s: float = 20.0) -> NotifyResult:
        """Journal a request (from this instance's own address) and wait for its result: how
        a conformance exercise or a test sends one notification through the whole path."""
        event = self.ctx.event(
            REQUEST_KIND, self.address, Phase.MOMENTARY, data=request.model_dump(mode="json")
        )
        await self.ctx.publish(event)
        return await asyncio.wait_for(self.result_for(event.id), timeout_s)

    # -- reading requests --------------------------------------------------------------------------

    def _load_done_ahead(self, committed: int) -> None:
        """Requests whose result was journaled before a restart but the cursor had not passed
        them yet (a slower request before them held it back): never delivered twice."""
        for key, seq in self.ctx.state.items().items():
            if not key.startswith(_DONE):
                continue
            if isinstance(seq, int) and seq > committed:
                self._done_ahead[key[len(_DONE) :]] = seq
            else:
                self.ctx.state.delete(key)

    async def _read_requests(self, consumer: Consumer) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self._window) < PENDING_LIMIT)
            batch = await consumer.next_batch(limit=PENDING_LIMIT - len(self._window))
            if not batch:  # the consumer or the journal is closing: wait to be cancelled
                await asyncio.sleep(IDLE_S)
                continue
            for record in batch:
                self._window.take(record.seq)
                self._take(record)
            if not self._window:  # nothing open: move past what the filter skipped too
                consumer.commit(consumer.position)

    def _take(self, record: JournalRecord) -> None:
        """Start delivering one record, or pass it over (another channel's, a tombstone)."""
        try:
            event = record.model
        except JournalError as exc:  # a record that no longer validates: say so, keep reading
            self.ctx.counters["records_unreadable"] += 1
            self.ctx.log.warning("unreadable notify.request record", seq=record.seq, error=str(exc))
            event = None
        if not isinstance(event, Event):  # pruned by retention, or unreadable
            self._passed(record.seq)
            return
        channel = event.data.get("channel")
        if channel != self.ctx.instance_id:
            if not isinstance(channel, str):
                # Nobody owns it, so nobody may answer it (every notifier would): count it.
                self.ctx.counters["requests_without_channel"] += 1
                self.ctx.log.warning(
                    "notify.request names no channel; no notifier can answer it", id=event.id
                )
            self._passed(record.seq)
            return
        if event.id in self._done_ahead:
            self.ctx.counters["duplicates_skipped"] += 1
            self._passed(record.seq)
            return
        self.ctx.spawn(self._handle(record.seq, event), name="deliver")

    def _passed(self, seq: int) -> None:
        position = self._window.finish(seq)
        if position is not None and self._consumer is not None:
            self._consumer.commit(position)
            self._forget_done_upto(position)

    def _forget_done_upto(self, position: int) -> None:
        for request_id, seq in list(self._done_ahead.items()):
            if seq <= position:
                del self._done_ahead[request_id]
                self.ctx.state.delete(_DONE + request_id)

    # -- one request -------------------------------------------------------------------------------

    async def _handle(self, seq: int, event: Event) -> None:
        result = await self._outcome(seq, event)
        await self._journal_result(result)
        self._done_ahead[event.id] = seq
        self.ctx.state.set(_DONE + event.id, seq)
        self.ctx.state.delete(_FAILED + event.id)
        self._passed(seq)
        self.recent.append(result)
        async with self._changed:
            self._changed.notify_all()

    async def _outcome(self, seq: int, event: Event) -> NotifyResult:
        channel = self.ctx.instance_id
        try:
            request = NotifyRequest.model_validate(event.data)
        except ValidationError as exc:
            self.ctx.counters["requests_invalid"] += 1
            self.ctx.counters["failed"] += 1
            reason = "invalid notify.request: " + _validation_summary(exc)
            self._note_error(reason)
            return NotifyResult(
                request=event.id, channel=channel, status="failed", attempts=0, detail=reason
            )
        recipients = list(request.to) or self.default_recipients()
        notification = Notification(
            id=event.id,
            seq=seq,
            request=request,
            source=event.source,
            requested_at=event.received_at,
            recipients=recipients,
        )
        age_s = (self.ctx.clock.now() - event.received_at).total_seconds()
        if age_s > self.config.max_age_s:
            self.ctx.counters["expired"] += 1
            return self._failed(
                notification,
                0,
                f"not sent: expired, requested {age_s:.0f} s ago (max_age_s "
                f"{self.config.max_age_s:.0f})",
            )
        if self.needs_recipients and not recipients:
            return self._failed(
                notification,
                0,
                "not sent: the request names no recipient and the channel has no default_to",
            )
        return await self._attempts(notification)

    async def _attempts(self, n: Notification) -> NotifyResult:
        delay = self.config.backoff_s
        failed_before = self.ctx.state.get(_FAILED + n.id, 0)
        attempt = failed_before if isinstance(failed_before, int) else 0
        while True:
            attempt += 1
            n.attempt = attempt
            outcome = await self._attempt(n)
            if isinstance(outcome, str):
                self.ctx.counters["delivered"] += 1
                self.last_delivered_at = self.ctx.clock.now()
                return NotifyResult(
                    request=n.id,
                    channel=self.ctx.instance_id,
                    status="delivered",
                    attempts=attempt,
                    detail=fit_detail(outcome),
                    to=n.recipients,
                )
            if outcome.permanent:
                return self._failed(n, attempt, f"permanent failure: {outcome.reason}")
            if attempt >= self.config.attempts:
                return self._failed(n, attempt, f"gave up after {attempt}: {outcome.reason}")
            # Failed attempts count across a restart (an interrupted one does not: it may not
            # have reached anyone), so `attempts` is what was tried and the budget is kept.
            self.ctx.state.set(_FAILED + n.id, attempt)
            self.ctx.counters["retries"] += 1
            wait = delay
            if outcome.retry_after_s is not None:  # the server said when: sooner is refused
                wait = min(max(delay, outcome.retry_after_s), self.config.backoff_max_s)
            await self.ctx.clock.sleep(wait)
            delay = min(delay * 2, self.config.backoff_max_s)

    async def _attempt(self, n: Notification) -> str | DeliveryError:
        """One try: the delivery's detail, or why it failed."""
        async with self._slots:
            self._in_flight += 1
            try:
                return await asyncio.wait_for(self.deliver(n), self.config.timeout_s)
            except DeliveryError as exc:
                error = exc
            except TimeoutError:
                error = DeliveryError(
                    f"no answer within timeout_s {self.config.timeout_s:g}", permanent=False
                )
            except Exception as exc:  # a notifier's bug or an unmapped library error
                self.ctx.counters["delivery_exceptions"] += 1
                self.ctx.log.warning("deliver raised", id=n.id, exc_info=exc)
                error = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
            finally:
                self._in_flight -= 1
        self._note_error(error.reason)
        self.ctx.log.warning(
            "delivery attempt failed",
            id=n.id,
            attempt=n.attempt,
            permanent=error.permanent,
            reason=error.reason,
        )
        return error

    def _failed(self, n: Notification, attempts: int, detail: str) -> NotifyResult:
        self.ctx.counters["failed"] += 1
        return NotifyResult(
            request=n.id,
            channel=self.ctx.instance_id,
            status="failed",
            attempts=attempts,
            detail=fit_detail(detail),
            to=n.recipients,
        )

    def _note_error(self, reason: str) -> None:
        self.last_error = reason
        self.last_error_at = self.ctx.clock.now()

    async def _journal_result(self, result: NotifyResult) -> None:
        """Journal the result; a journal write error is retried, so the message is not sent
        again (the cursor would otherwise replay it after the instance restarts)."""
        text = f"{result.status} via {result.channel}: {result.detail}"
        event = self.ctx.event(
            RESULT_KIND,
            self.address,
            Phase.MOMENTARY,
            text=text[:DETAIL_MAX],
            data=result.model_dump(mode="json"),
        )
        delay = RESULT_RETRY_S
        while True:
            try:
                await self.ctx.publish(event)
                return
            except JournalWriteError as exc:
                self.ctx.counters["result_write_errors"] += 1
                self._note_error(f"could not journal the result: {exc}")
                self.ctx.log.error("could not journal notify.result; retrying", error=str(exc))
                await self.ctx.clock.sleep(delay)
                delay = min(delay * 2, 30.0)


def settle_recipients(
    n: Notification, transient: dict[str, str], retry_after_s: float | None = None
) -> str:
    """For channels that serve recipients one by one: after an attempt has put those it reached
    in ``n.done`` and those refused for good in ``n.refused``, raise for what is left (transient
    first: a retry goes only to those, no sooner than ``retry_after_s`` when a server asked) or
    return the detail of a full delivery."""
    reached = ", ".join(r for r in n.recipients if r in n.done) or "nobody"
    if transient:
        waiting = "; ".join(f"{r}: {why}" for r, why in transient.items())
        raise DeliveryError(
            f"reached {reached}; not yet {waiting}", permanent=False, retry_after_s=retry_after_s
        )
    if n.refused:
        refused = "; ".join(f"{r}: {why}" for r, why in n.refused.items())
        raise DeliveryError(f"reached {reached}; refused {refused}", permanent=True)
    return f"reached {reached}"


def fit_detail(text: str) -> str:
    """A detail that fits ``NotifyResult.detail``."""
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _validation_summary(exc: ValidationError) -> str:
    """``to.0: Input should be a valid string; subject: Field required`` — key paths first."""
    parts: Iterable[str] = (
        f"{'.'.join(str(p) for p in err['loc']) or '(data)'}: {err['msg']}" for err in exc.errors()
    )
    return "; ".join(parts)
