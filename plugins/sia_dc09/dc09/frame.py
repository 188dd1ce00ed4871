"""DC-09 frames: one frame's bytes in, a checked :class:`Dc09Message` out; no I/O.

``<LF> CRC 0LLL "ID" SEQ [Rrcvr] Lpref #acct [DATA] [xDATA]... [_HH:MM:SS,MM-DD-YYYY] <CR>``

Checked in wire order, each failure a :class:`Dc09Error` with its reason:

1. size (at most ``max_bytes``), then the framing: LF and CR are optional here because UDP
   datagrams and the kit hand over bare frames; NULs after CR only as a variant.
2. "CRC: 4 ASCII hex (upper case), CRC-16/ARC of every byte from the opening ``"`` of the ID
   token up to and including the last byte before ``<CR>``" (2 raw bytes, MSB first, only
   with the ``binary_crc`` variant).
3. "LLLL: ``0`` + 3 ASCII hex = byte count of the same region the CRC covers" (decimal only
   with the ``decimal_length`` variant).
4. the token: ``"SIA-DCS"``, ``"ADM-CID"``, ``"NULL"`` and their ``*`` forms; anything else is
   ``unknown_token`` (DUH: "correctly received but cannot process … unsupported token").
5. "SEQ: 4 decimal digits"; "Rrcvr: optional, R + 1–6 hex"; "Lpref: required, L + 1–6 hex";
   "#acct: # + 3–16 hex chars".
6. ``[DATA]`` then zero or more ``[xDATA]`` blocks (identifier letter + value) and the
   timestamp; for ``*`` tokens all of it after ``[`` is AES ciphertext in hex (see ``crypto``),
   and the timestamp is "required when encrypted".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from types import MappingProxyType
from typing import Literal

from plugins.sia_dc09.dc09.crc import crc16_arc
from plugins.sia_dc09.dc09.crypto import Key, decrypt, strip_pad
from plugins.sia_dc09.dc09.errors import Dc09Error, Header, Reason
from plugins.sia_dc09.dc09.message import Dc09Message, Token
from plugins.sia_dc09.dc09.timestamp import parse_timestamp
from plugins.sia_dc09.dc09.variants import DEFAULT, Variant, Variants

MAX_FRAME_BYTES = 1024
"""Longest frame looked at, LF to CR. DC-09's length field allows 4095 bytes, but events with
their extended data fit well inside 1 KiB; a longer frame is refused before it is scanned."""

KeyLookup = Callable[[str], Key | None]
"""``account -> Key`` for accounts that encrypt; None when the account has no key here."""

_TOKEN = re.compile(r'"(\*?)([ !#-~]{0,16})"', re.ASCII)
_SEQ = re.compile(r"[0-9]{4}", re.ASCII)
_RECEIVER = re.compile(r"R([0-9A-Fa-f]{1,6})", re.ASCII)
_LINE = re.compile(r"L([0-9A-Fa-f]{1,6})", re.ASCII)
_ACCOUNT = re.compile(r"#([0-9A-Fa-f]{3,16})\[", re.ASCII)
_DATA_ACCOUNT = re.compile(r"#[0-9A-Fa-f]{3,16}\|", re.ASCII)
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_XDATA_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKENS = {t.value: t for t in Token}


def parse_frame(
    raw: bytes,
    *,
    keys: KeyLookup | None = None,
    variants: Variants = DEFAULT,
    max_bytes: int = MAX_FRAME_BYTES,
) -> Dc09Message:
    """A checked message from one frame (with or without its LF and CR), or Dc09Error."""
    if len(raw) > max_bytes:
        raise Dc09Error(
            Reason.TOO_LONG, f"frame of {len(raw)} bytes is longer than {max_bytes} bytes"
        )
    seen: list[Variant] = []
    region = _checked_region(_unframed(raw, variants, seen), variants, seen)
    text = _text(region)
    header, tail = _header(text)
    try:
        return _message(header, tail, raw, keys, variants, seen)
    except Dc09Error as exc:
        if exc.header is None:
            exc.header = header
        raise


def _unframed(raw: bytes, variants: Variants, seen: list[Variant]) -> bytes:
    """The frame without LF, CR and (as a variant) NULs after it."""
    body = raw
    if body.endswith(b"\x00"):
        if not variants.trailing_nuls:
            raise Dc09Error(Reason.FORMAT, "NUL bytes after the frame (trailing_nuls variant)")
        body = body.rstrip(b"\x00")
        seen.append(Variant.TRAILING_NULS)
    if body.endswith(b"\r"):
        body = body[:-1]
    # A binary CRC may itself begin with 0x0A: a quote at offset 6 means no LF was sent.
    if body.startswith(b"\n") and not (variants.binary_crc and body[6:7] == b'"'):
        body = body[1:]
    return body


def crc_format(body: bytes) -> Literal["hex", "binary"] | None:
    """How a frame (without its LF) writes its CRC, judged by where the token's quote stands:
    after 4 hex digits and ``0LLL``, or after 2 raw bytes and ``0LLL``; None if neither."""
    if body[8:9] == b'"':
        return "hex"
    if body[6:7] == b'"' and body[2:3] == b"0":
        return "binary"
    return None


def _checked_region(body: bytes, variants: Variants, seen: list[Variant]) -> bytes:
    """The bytes from the token's opening quote to the end, with CRC and length checked."""
    layout = crc_format(body)
    if layout == "hex":
        crc_field, length_field, region = body[:4], body[4:8], body[8:]
        if not set(crc_field) <= _HEX:
            raise Dc09Error(Reason.CRC, f"CRC field {_show(crc_field)} is not 4 hex digits")
        sent = int(crc_field, 16)
    elif layout == "binary":
        if not variants.binary_crc:
            raise Dc09Error(
                Reason.CRC,
                "the CRC is 2 raw bytes, not 4 hex digits (binary_crc variant, not enabled)",
            )
        crc_field, length_field, region = body[:2], body[2:6], body[6:]
        sent = int.from_bytes(crc_field, "big")
        seen.append(Variant.BINARY_CRC)
    else:
        raise Dc09Error(
            Reason.FORMAT,
            "expected CRC (4 hex digits) and length (0LLL) before the token's opening '\"'",
        )
    computed = crc16_arc(region)
    if sent != computed:
        raise Dc09Error(Reason.CRC, f"bad CRC: the frame says {sent:04X}, computed {computed:04X}")
    _check_length(length_field, len(region), variants, seen)
    return region


def _check_length(field: bytes, actual: int, variants: Variants, seen: list[Variant]) -> None:
    if field[:1] != b"0" or not set(field) <= _HEX:
        raise Dc09Error(Reason.LENGTH, f"length field {_show(field)} is not 0 + 3 hex digits")
    if int(field, 16) == actual:
        return
    if variants.decimal_length and field.isdigit() and int(field) == actual:
        seen.append(Variant.DECIMAL_LENGTH)
        return
    raise Dc09Error(
        Reason.LENGTH,
        f"bad length: the field says {_show(field)} ({int(field, 16)} bytes), "
        f"the frame has {actual:04X} ({actual} bytes)",
    )


def _show(field: bytes) -> str:
    """A field as one printable line: other bytes as ``\\xNN``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in field)


def _text(data: bytes) -> str:
    """DC-09 text is ASCII; alarm text and names in it come as UTF-8 or Windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _header(text: str) -> tuple[Header, str]:
    """The header fields and the text after ``[``."""
    token = _TOKEN.match(text)
    if token is None:
        raise Dc09Error(Reason.FORMAT, 'no quoted token ("SIA-DCS", "ADM-CID", "NULL")')
    pos = token.end()
    seq = _SEQ.match(text, pos)
    if seq is None:
        raise Dc09Error(Reason.FORMAT, f"no 4-digit sequence number after {token.group()}")
    pos = seq.end()
    receiver = _RECEIVER.match(text, pos)
    pos = receiver.end() if receiver else pos
    line = _LINE.match(text, pos)
    if line is None:
        raise Dc09Error(Reason.FORMAT, "no L field (L + 1-6 hex digits) after the sequence")
    account = _ACCOUNT.match(text, line.end())
    if account is None:
        raise Dc09Error(
            Reason.FORMAT, "no account (# + 3-16 hex digits, then '[') after the L field"
        )
    header = Header(
        token=token.group(1) + token.group(2),
        seq=seq.group(),
        receiver=receiver.group(1) if receiver else None,
        line=line.group(1),
        account=account.group(1),
    )
    return header, text[account.end() :]


def _message(
    header: Header,
    tail: str,
    raw: bytes,
    keys: KeyLookup | None,
    variants: Variants,
    seen: list[Variant],
) -> Dc09Message:
    encrypted = header.token.startswith("*")
    token = _TOKENS.get(header.token.removeprefix("*"))
    if token is None:
        raise Dc09Error(
            Reason.UNKNOWN_TOKEN,
            f'unknown token "{header.token}" (expected SIA-DCS, ADM-CID or NULL, '
            "optionally with '*')",
        )
    if encrypted:
        tail = _decrypted(header, token, tail, keys, variants, seen)
    data, xdata, when = _blocks(tail, encrypted)
    if encrypted and when is None:
        raise Dc09Error(Reason.TIMESTAMP, "an encrypted message must carry a timestamp")
    if data or token is not Token.NULL:
        _check_data_account(token, data, variants, seen, header.account)
    timestamp = None
    if when is not None:
        local = variants.local_time
        timestamp = parse_timestamp(when, UTC if local is None else local)
        if local is not None:
            seen.append(Variant.LOCAL_TIME)
    return Dc09Message(
        token=token,
        encrypted=encrypted,
        seq=header.seq,
        receiver=header.receiver,
        line=header.line,
        account=header.account,
        data=data,
        xdata=MappingProxyType(xdata),
        timestamp=timestamp,
        variants_seen=tuple(seen),
        raw=raw,
    )


def _decrypted(
    header: Header,
    token: Token,
    tail: str,
    keys: KeyLookup | None,
    variants: Variants,
    seen: list[Variant],
) -> str:
    """The plaintext after the pad: ``DATA ] [xDATA]... _timestamp``."""
    key = keys(header.account) if keys is not None else None
    if key is None:
        raise Dc09Error(
            Reason.NO_KEY, f"encrypted message, but no key for account {header.account}"
        )
    plaintext, bar_missing = strip_pad(
        decrypt(key, tail), bar_optional=variants.pad_without_bar and token is Token.NULL
    )
    if bar_missing:
        seen.append(Variant.PAD_WITHOUT_BAR)
    return _text(plaintext)


def _blocks(tail: str, encrypted: bool) -> tuple[str, dict[str, str], str | None]:
    """``DATA]`` then ``[xDATA]`` blocks and the ``_timestamp`` text, split and checked.

    In an encrypted message a broken structure means the key or the ciphertext is wrong
    (the CRC has already vouched for the bytes on the wire).
    """
    try:
        return _split_blocks(tail)
    except Dc09Error as exc:
        if encrypted and exc.reason is Reason.FORMAT:
            raise Dc09Error(Reason.KEY, f"bad key or corrupt ciphertext: {exc}") from None
        raise


def _split_blocks(tail: str) -> tuple[str, dict[str, str], str | None]:
    end = tail.find("]")
    if end < 0:
        raise Dc09Error(Reason.FORMAT, "the data block has no closing ']'")
    data = tail[:end]
    if "[" in data:
        raise Dc09Error(Reason.FORMAT, "'[' inside the data block")
    xdata: dict[str, str] = {}
    pos = end + 1
    while tail.startswith("[", pos):
        close = tail.find("]", pos)
        if close < 0:
            raise Dc09Error(Reason.FORMAT, "an extended-data block has no closing ']'")
        block = tail[pos + 1 : close]
        if not block or block[0] not in _XDATA_ID or "[" in block:
            raise Dc09Error(
                Reason.FORMAT,
                f"extended-data block {block[:16]!r} does not start with an identifier A-Z",
            )
        if block[0] in xdata:
            raise Dc09Error(Reason.FORMAT, f"extended data {block[0]} appears twice")
        xdata[block[0]] = block[1:]
        pos = close + 1
    rest = tail[pos:]
    if rest and not rest.startswith("_"):
        raise Dc09Error(Reason.FORMAT, f"{rest[:16]!r} after the data blocks (expected '[' or '_')")
    return data, xdata, rest or None


def _check_data_account(
    token: Token, data: str, variants: Variants, seen: list[Variant], account: str
) -> None:
    """SIA-DCS: ``#acct|N…``; ADM-CID: ``#acct|QXYZ GG CCC``; NULL: empty or the same."""
    if not data:
        raise Dc09Error(Reason.FORMAT, f"a {token} message needs a data block, got []")
    named = _DATA_ACCOUNT.match(data)
    if named:
        # A link test's data block carries nothing (panels send "#0000|…"): only a report's
        # account is compared.
        if token is not Token.NULL and named.group(0)[1:-1].upper() != account.upper():
            seen.append(Variant.DATA_ACCOUNT_DIFFERS)
        return
    if not variants.data_without_account:
        raise Dc09Error(
            Reason.FORMAT,
            f"the data block {data[:24]!r} does not start with #acct| "
            "(data_without_account variant, not enabled)",
        )
    seen.append(Variant.DATA_WITHOUT_ACCOUNT)
