"""A decoded DC-09 message to canonical events: SIA-DCS through the DC-03 table, ADM-CID
through the Contact ID table, NULL to none (it is a link test: supervision, not an event).

The time of an event is the frame's timestamp when it carries one (the panel's clock, UTC),
else the receiver's. Every event carries the frame's identity in ``data.dc09`` (sequence, the
de-duplication fingerprint, vendor variants seen), so a retransmission can be recognised after
a restart from the journal alone.
"""

from __future__ import annotations

from typing import Any

from gateway.model.event import Event
from gateway.sdk.codec import DecodeContext
from plugins.contact_id.mapping import to_events as cid_to_events
from plugins.sia_dc09.admcid import parse_admcid
from plugins.sia_dc09.dc09 import Dc09Message, Token
from plugins.sia_dc09.dedup import fingerprint
from plugins.sia_dc09.sia.data import parse_data
from plugins.sia_dc09.sia.mapping import sia_to_events


def frame_fingerprint(message: Dc09Message) -> str:
    stamp = message.timestamp.isoformat() if message.timestamp else None
    return fingerprint(message.account, message.seq, stamp, message.data, message.raw)


def to_events(
    message: Dc09Message,
    ctx: DecodeContext,
    *,
    fp: str | None = None,
    plugin: str | None = None,
) -> list[Event]:
    """The events a message reports; raises the SIA or Contact ID codec's error when its data
    block cannot be processed at all (the receiver answers DUH). ``fp`` is the frame's
    fingerprint when the caller has it already; ``plugin`` the instance that received it."""
    if message.token is Token.NULL:
        return []
    raw = message.raw.strip(b"\n\r\x00").decode("ascii", "replace")
    frame: dict[str, Any] = {"seq": message.seq, "fp": fp or frame_fingerprint(message)}
    if message.variants_seen:
        frame["variants"] = [v.value for v in message.variants_seen]
    if message.encrypted:
        frame["encrypted"] = True
    if message.token is Token.SIA_DCS:
        block = parse_data(message.data)  # unknown codes become sia_dc09.unmapped: kept
        return sia_to_events(
            message.account,
            block.events,
            ctx,
            occurred_at=message.timestamp,
            raw=raw,
            frame=frame,
            plugin=plugin,
        )
    report = parse_admcid(message.data, message.account)
    return cid_to_events(
        report,
        ctx,
        raw=raw,
        occurred_at=message.timestamp,
        extra={"dc09": {**frame, "i": 0, "n": 1}},
        plugin=plugin,
    )
