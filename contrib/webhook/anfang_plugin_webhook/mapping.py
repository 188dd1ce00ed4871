"""Reports as canonical events, and the ``decode`` function offered to ``anfang decode``.

The sender is ``<site>/acct-<account>`` and a zone ``<site>/acct-<account>/zone-<zone>``. Senders
name core kinds directly, so the mapping checks them against the core table; the sender's own
time is kept as ``occurred_at`` (the gateway's as ``received_at``) and the body as ``raw``.
"""

from __future__ import annotations

from gateway.model.event import Event
from gateway.model.kinds import KindError, KindRegistry
from gateway.sdk.codec import DecodeContext, Decoded

from .codec import Report, parse_body
from .errors import WebhookError

PROTOCOL = "webhook-json"
_CORE = KindRegistry()


def device_id(account: str) -> str:
    return f"acct-{account}"


def point_id(zone: str) -> str:
    return f"zone-{zone}"


def to_events(report: Report, ctx: DecodeContext, raw: str | None = None) -> list[Event]:
    """The canonical event for one report; WebhookError for a kind the core table lacks."""
    if report.kind not in _CORE:
        raise WebhookError(
            f"kind {report.kind!r} is not in the core kind table (docs/event-kinds.md)"
        )
    try:
        spec = _CORE.check(report.kind, report.phase)
    except KindError as exc:
        raise WebhookError(str(exc)) from None
    point = point_id(report.zone) if report.zone is not None else None
    return [
        Event(
            kind=report.kind,
            phase=report.phase,
            priority=spec.priority,
            source=ctx.address(device_id(report.account), point),
            zone=report.zone,
            occurred_at=report.occurred_at or ctx.now,
            received_at=ctx.now,
            protocol=PROTOCOL,
            text=report.text,
            data={**report.data, "account": report.account},
            raw=raw,
        )
    ]


def decode(frame: bytes, ctx: DecodeContext) -> Decoded:
    """One request body: the fields and the events (the codec contract)."""
    report = parse_body(frame)
    return Decoded(report.to_dict(), to_events(report, ctx, frame.decode("utf-8")))
