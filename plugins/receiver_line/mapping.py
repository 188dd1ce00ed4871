"""Receiver lines as canonical events, through the tables the other alarm plugins use.

Contact ID lines go through :mod:`plugins.contact_id.mapping` and SIA lines through
:mod:`plugins.sia_dc09.sia.mapping`, so a panel reporting through a hardware receiver lands on
the same kinds and addresses (``<site>/acct-<ACCOUNT>[/zone-<n>]``) as one reporting over
DC-09. The ``DecodeContext`` carries the account's site (or ``unknown-<account>``).

What the receiver says about itself (``0RRLLL[#0000|...]`` status lines) and lines of
protocols this bridge does not decode are events of the receiver device. Every event keeps
the line's receiver and line numbers in ``data.receiver_line``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk.codec import DecodeContext
from plugins.contact_id.mapping import to_events as cid_to_events
from plugins.receiver_line.kinds import UNSUPPORTED
from plugins.receiver_line.messages import CidLine, ForeignLine, Heartbeat, Message, SiaLine
from plugins.sia_dc09.sia.mapping import sia_to_events

PROTOCOL = "sur-gard"
"""``protocol`` of the events this plugin builds itself (lines it does not decode)."""


def to_events(
    message: Message,
    ctx: DecodeContext,
    receiver: str,
    *,
    plugin: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Event]:
    """The events one line reports (none for a heartbeat).

    ``ctx`` addresses the account's panel; ``receiver`` is the hardware receiver's own
    address; ``extra`` is added to each event's ``data.receiver_line`` (the bridge's line
    fingerprint), beside the event's index ``i`` of ``n`` in the line.
    """
    if isinstance(message, Heartbeat):
        return []
    line = {**message.header.to_dict(), **(extra or {})}
    if isinstance(message, CidLine):
        return cid_to_events(
            message.report,
            ctx,
            raw=message.raw,
            extra={"receiver_line": {**line, "i": 0, "n": 1}},
            plugin=plugin,
        )
    if isinstance(message, SiaLine):
        if message.internal:
            ctx = DecodeContext(site=ctx.site, now=ctx.now, addresser=lambda _d, _p: receiver)
        events = sia_to_events(
            message.account,
            message.block.events,
            ctx,
            occurred_at=None,
            raw=message.raw,
            plugin=plugin,
        )
        n = len(events)
        return [
            e.model_copy(update={"data": {**e.data, "receiver_line": {**line, "i": i, "n": n}}})
            for i, e in enumerate(events)
        ]
    return [_unsupported(message, ctx, receiver, line, plugin)]


def _unsupported(
    message: ForeignLine,
    ctx: DecodeContext,
    receiver: str,
    line: dict[str, Any],
    plugin: str | None,
) -> Event:
    return Event(
        kind=UNSUPPORTED.name,
        phase=Phase.ALARM,
        priority=UNSUPPORTED.priority,
        source=receiver,
        occurred_at=ctx.now,
        received_at=ctx.now,
        plugin=plugin,
        protocol=PROTOCOL,
        code=f"SG:{message.header.protocol}",
        text=f"receiver line in protocol '{message.header.protocol}' (not decoded here)",
        data={"receiver_line": {**line, "i": 0, "n": 1}, "body": message.body},
        raw=message.raw,
    )
