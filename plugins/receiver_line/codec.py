"""The line codec as offered to ``anfang decode receiver-line`` and the conformance kit.

One line per frame, with or without its DC4/CR terminator. Without a config, addresses follow
the default rule (``<site>/acct-<ACCOUNT>``; the receiver's own lines under
``<site>/receiver``). With a bridge's config (``anfang decode receiver-line -c anfang.yaml``) a
line is addressed as that bridge addresses it: its receiver's configured name, each account's
site, unknown accounts under ``<site>/unknown-<ACCOUNT>``, and ``answer`` says whether the
bridge would ACK it or NAK it (strict mode's unknown accounts).
"""

from __future__ import annotations

from pathlib import Path

from gateway.sdk.codec import CodecSpec, DecodeContext, Decoded, Decoder
from plugins.receiver_line.bridge import account_of, accounts_from
from plugins.receiver_line.config import LineConfig
from plugins.receiver_line.errors import LineError
from plugins.receiver_line.mapping import to_events
from plugins.receiver_line.parse import parse_line

DEFAULT_RECEIVER = "receiver"
"""The receiver's device id when no config names it."""

_VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "receiver_line.json"
VECTORS = _VECTORS if _VECTORS.is_file() else None
"""The repository's vector file; absent from an installed wheel, hence optional."""


def decode_line(frame: bytes, ctx: DecodeContext) -> Decoded:
    message = parse_line(_unterminated(frame))
    events = to_events(message, ctx, ctx.address(DEFAULT_RECEIVER))
    return Decoded(message.to_dict(), events)


def decode_as_bridge(config: LineConfig, site: str) -> Decoder:
    """The decoder of a bridge with ``config`` at ``site`` (``CodecSpec.configured``)."""
    accounts = accounts_from(config, site)
    receiver = f"{site}/{config.receiver.name}"

    def decode(frame: bytes, ctx: DecodeContext) -> Decoded:
        message = parse_line(_unterminated(frame), config.max_line)
        fields = message.to_dict()
        account = account_of(message, accounts, site)
        if account is None:  # a heartbeat or the receiver's own line
            events = to_events(message, DecodeContext(site, ctx.now), receiver)
            fields["answer"] = "ACK"
            return Decoded(fields, events)
        fields["account_known"] = account.known
        fields["device"] = account.device
        if not account.known and config.strict:
            fields["answer"] = "NAK: unknown account (strict)"
            return Decoded(fields, [])
        fields["answer"] = "ACK"
        return Decoded(fields, to_events(message, account.decode_context(ctx.now), receiver))

    return decode


def _configured(config: object, site: str) -> Decoder:
    if not isinstance(config, LineConfig):
        raise TypeError(f"receiver-line decodes with a receiver_line config, not {config!r}")
    return decode_as_bridge(config, site)


def _unterminated(frame: bytes) -> bytes:
    return frame.lstrip(b"\n\x00").rstrip(b"\n").removesuffix(b"\r").removesuffix(b"\x14")


CODEC = CodecSpec(
    name="receiver-line",
    description="Sur-Gard receiver computer output line (heartbeat, Contact ID, SIA; DC4/CR)",
    decode=decode_line,
    error=LineError,
    vectors=VECTORS,
    configured=_configured,
)
