"""The line codec as offered to ``anfang decode receiver-line`` and the conformance kit.

One line per frame, with or without its DC4/CR terminator. Addresses follow the default
rule (``<site>/acct-<ACCOUNT>``; the receiver's own lines under ``<site>/receiver``): the
running plugin maps accounts to sites, the decoder has no config.
"""

from __future__ import annotations

from pathlib import Path

from gateway.sdk.codec import CodecSpec, DecodeContext, Decoded
from plugins.receiver_line.errors import LineError
from plugins.receiver_line.mapping import to_events
from plugins.receiver_line.parse import parse_line

DEFAULT_RECEIVER = "receiver"
"""The receiver's device id when no config names it."""

_VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "receiver_line.json"
VECTORS = _VECTORS if _VECTORS.is_file() else None
"""The repository's vector file; absent from an installed wheel, hence optional."""


def decode_line(frame: bytes, ctx: DecodeContext) -> Decoded:
    line = frame.lstrip(b"\n\x00").rstrip(b"\n").removesuffix(b"\r").removesuffix(b"\x14")
    message = parse_line(line)
    events = to_events(message, ctx, ctx.address(DEFAULT_RECEIVER))
    return Decoded(message.to_dict(), events)


CODEC = CodecSpec(
    name="receiver-line",
    description="Sur-Gard receiver computer output line (heartbeat, Contact ID, SIA; DC4/CR)",
    decode=decode_line,
    error=LineError,
    vectors=VECTORS,
)
