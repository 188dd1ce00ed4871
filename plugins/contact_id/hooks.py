"""How the Contact ID codec is registered: the ``anfang.plugins`` entry point names this module.

Two codecs share one parser: ``contact-id`` reads hex text (what IP and serial gateways pass on),
``contact-id-dtmf`` reads the digits as a DTMF decoder writes them (``* # A B C`` for B-F).
"""

from __future__ import annotations

from pathlib import Path

from gateway.model.kinds import KindSpec
from gateway.sdk.codec import CodecSpec, DecodeContext, Decoded
from gateway.sdk.hookspecs import hookimpl
from plugins.contact_id.codec import Notation, parse
from plugins.contact_id.errors import ContactIdError
from plugins.contact_id.mapping import UNMAPPED, to_events

_VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "contact_id.json"
VECTORS = _VECTORS if _VECTORS.is_file() else None
"""The repository's vector file; absent from an installed wheel, hence optional."""


def decode(data: bytes, ctx: DecodeContext) -> Decoded:
    """One 16-digit Contact ID message in hex notation, spaces allowed."""
    return _decode(data, ctx, Notation.HEX)


def decode_dtmf(data: bytes, ctx: DecodeContext) -> Decoded:
    """One 16-digit Contact ID message as DTMF keys (``*`` ``#`` ``A`` ``B`` ``C`` = B-F)."""
    return _decode(data, ctx, Notation.DTMF)


def _decode(data: bytes, ctx: DecodeContext, notation: Notation) -> Decoded:
    message = parse(data, notation)
    raw = data.decode("ascii")  # parse has checked it is ASCII
    return Decoded(message.to_dict(), to_events(message, ctx, raw))


CODEC = CodecSpec(
    name="contact-id",
    description="Ademco Contact ID (SIA DC-05): ACCT MT QXYZ GG CCC S, 16 hex digits",
    decode=decode,
    error=ContactIdError,
    vectors=VECTORS,
)
CODEC_DTMF = CodecSpec(
    name="contact-id-dtmf",
    description="Ademco Contact ID as DTMF keys (* # A B C for hex B-F)",
    decode=decode_dtmf,
    error=ContactIdError,
    vectors=VECTORS,
)


@hookimpl
def anfang_codecs() -> list[CodecSpec]:
    return [CODEC, CODEC_DTMF]


@hookimpl
def anfang_event_kinds() -> list[KindSpec]:
    return [UNMAPPED]
