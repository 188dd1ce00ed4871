"""The codecs this plugin offers to ``anfang decode`` and the conformance kit.

``sia-dc09`` decodes one DC-09 frame as the receiver does by default: the vendor variants it
accepts without configuration (trailing NULs, a data block without ``#acct|``, a pad without
``|``) are flagged in the message; binary CRCs and decimal lengths need the receiver's
``variants`` setting and are refused here with a reason saying so. No keys (an encrypted frame
says so) and no timestamp window. A data block that cannot be read is reported as the frame's
error, so the codec keeps one error type.

With a receiver's config (``anfang decode sia-dc09 -c anfang.yaml``) the frame is decoded as
that receiver would: its accounts' keys, its variants, each account's site and time zone, and
the DUH it would answer for a frame it reads but refuses (strict mode's unknown accounts, a
plain frame for a keyed account, a data block with no event it can process). Still no
timestamp window (a capture is old by the time it is decoded) and no de-duplication.
"""

from __future__ import annotations

from pathlib import Path

from gateway.model.event import Event
from gateway.sdk.codec import CodecError, CodecSpec, DecodeContext, Decoded, Decoder
from plugins.sia_dc09.config import ReceiverConfig
from plugins.sia_dc09.dc09 import DEFAULT, Dc09Error, Dc09Message, Reason, parse_frame
from plugins.sia_dc09.mapping import to_events
from plugins.sia_dc09.receiver import (
    accounts_from,
    key_lookup,
    parse_for_account,
    receiver_variants,
    refusal_of,
)


def decode_dc09(frame: bytes, ctx: DecodeContext) -> Decoded:
    message = parse_frame(frame, variants=DEFAULT)
    return Decoded(message.to_dict(), _events(message, ctx))


def decode_as_receiver(config: ReceiverConfig, site: str) -> Decoder:
    """The decoder of a receiver with ``config`` at ``site`` (``CodecSpec.configured``)."""
    accounts = accounts_from(config, site)
    keys, variants = key_lookup(accounts), receiver_variants(config)

    def decode(frame: bytes, ctx: DecodeContext) -> Decoded:
        message, account = parse_for_account(
            frame, accounts, keys, site, variants, config.max_frame
        )
        fields = message.to_dict()
        fields["account_known"] = account.known
        fields["device"] = account.device
        refusal = refusal_of(config, message, account)
        if refusal is not None:
            fields["answer"] = f"DUH: {refusal[1]}"
            return Decoded(fields, [])
        try:
            events = to_events(message, account.decode_context(ctx.now))
        except CodecError as exc:  # read correctly, but no event in it: DUH, as the receiver
            fields["answer"] = f"DUH: data block {message.data!r} cannot be processed: {exc}"
            return Decoded(fields, [])
        fields["answer"] = "ACK"  # inside the timestamp window, which is not checked here
        return Decoded(fields, events)

    return decode


def _events(message: Dc09Message, ctx: DecodeContext) -> list[Event]:
    try:
        return to_events(message, ctx)
    except CodecError as exc:
        raise Dc09Error(
            Reason.FORMAT, f"data block {message.data!r}: {exc}", header=message.header
        ) from None


def _configured(config: object, site: str) -> Decoder:
    if not isinstance(config, ReceiverConfig):
        raise TypeError(f"sia-dc09 decodes with a sia_dc09 config, not {type(config).__name__}")
    return decode_as_receiver(config, site)


CODECS = (
    CodecSpec(
        name="sia-dc09",
        description="SIA DC-09 frame (SIA-DCS, ADM-CID, NULL; CRC, length, timestamp, xdata)",
        decode=decode_dc09,
        error=Dc09Error,
        vectors=Path(__file__).parent / "dc09" / "vectors.json",
        configured=_configured,
    ),
)
