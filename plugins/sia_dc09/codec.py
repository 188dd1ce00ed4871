"""The codecs this plugin offers to ``anfang decode`` and the conformance kit.

``sia-dc09`` decodes one DC-09 frame as the receiver does by default: the vendor variants it
accepts without configuration (trailing NULs, a data block without ``#acct|``, a pad without
``|``) are flagged in the message; binary CRCs and decimal lengths need the receiver's
``variants`` setting and are refused here with a reason saying so. No keys (an encrypted frame
says so) and no timestamp window. A data block that cannot be read is reported as the frame's
error, so the codec keeps one error type.
"""

from __future__ import annotations

from pathlib import Path

from gateway.sdk.codec import CodecError, CodecSpec, DecodeContext, Decoded
from plugins.sia_dc09.dc09 import DEFAULT, Dc09Error, Reason, parse_frame
from plugins.sia_dc09.mapping import to_events


def decode_dc09(frame: bytes, ctx: DecodeContext) -> Decoded:
    message = parse_frame(frame, variants=DEFAULT)
    try:
        events = to_events(message, ctx)
    except CodecError as exc:
        raise Dc09Error(
            Reason.FORMAT, f"data block {message.data!r}: {exc}", header=message.header
        ) from None
    return Decoded(message.to_dict(), events)


CODECS = (
    CodecSpec(
        name="sia-dc09",
        description="SIA DC-09 frame (SIA-DCS, ADM-CID, NULL; CRC, length, timestamp, xdata)",
        decode=decode_dc09,
        error=Dc09Error,
        vectors=Path(__file__).parent / "dc09" / "vectors.json",
    ),
)
