"""Building DC-09 frames and the receiver's responses, byte for byte; no I/O, no clock.

Every frame is ``<LF> CRC 0LLL region <CR>``: the region runs from the token's opening ``"``
to the last byte before CR, CRC-16/ARC and the byte count cover exactly it. Responses
(the notes' table, after DC-09 and what ioBroker, pysiaalarm and Ajax send):

* ACK "message OK": ``"ACK"SEQ[Rrcvr]Lpref#acct[]`` — "echo SEQ/R/L/acct".
* \\*ACK "OK and request was encrypted": ``"*ACK"SEQ Rr Lp #acct[`` + hex(AES(pad + ``]`` +
  ``_timestamp``)); "the timestamp is required in \\*ACK". The pad ends in ``|`` as in every
  encrypted message ("the ``|`` after the pad is always present"), which is ioBroker's
  ``pad|]_ts``; pysiaalarm's ``000…]_ts`` without it is not copied.
* NAK "CRC/format failure, or encrypted message failing the timestamp test":
  ``"NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY`` — "never encrypted; carries receiver UTC time so
  the panel can resync".
* DUH "correctly received but cannot process (unknown account/code, unsupported token)":
  ``"DUH"SEQ R L #acct[]``, in clear as pysiaalarm sends it (the receiver may hold no key).
* RSP "reply carrying requested data, e.g. [K] key exchange", encrypted like ACK when the
  request was.

A binary-CRC sender (Lupusec/OPAX/Egardia) gets its replies with a binary CRC: "Reply in the
same format." Pass ``pad`` only to make encrypted output repeatable in tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from plugins.sia_dc09.dc09.crc import crc16_arc
from plugins.sia_dc09.dc09.crypto import Key, PadSource, encrypt, random_pad
from plugins.sia_dc09.dc09.errors import Dc09Error, Header, Reason
from plugins.sia_dc09.dc09.message import Dc09Message, Token
from plugins.sia_dc09.dc09.timestamp import format_timestamp
from plugins.sia_dc09.dc09.variants import Variant

MAX_LENGTH = 0xFFF
"""The largest region the ``0LLL`` length field can state."""

_HEX_FIELD = {
    "receiver": re.compile(r"[0-9A-Fa-f]{1,6}", re.ASCII),
    "line": re.compile(r"[0-9A-Fa-f]{1,6}", re.ASCII),
    "account": re.compile(r"[0-9A-Fa-f]{3,16}", re.ASCII),
}
_SEQ = re.compile(r"[0-9]{4}", re.ASCII)
_XDATA_ID = re.compile(r"[A-Z]", re.ASCII)
_UNSAFE = re.compile(r"[\[\]\x00-\x1f\x7f]")
"""Characters that would end a block or the frame early."""


def build_frame(
    token: Token | str,
    seq: int | str,
    account: str,
    data: str = "",
    *,
    receiver: str | None = None,
    line: str = "0",
    xdata: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
    key: Key | None = None,
    binary_crc: bool = False,
    pad: PadSource = random_pad,
) -> bytes:
    """A complete frame, encrypted (``*`` token) when ``key`` is given.

    ``data`` is the block's content without brackets (``#1234|Nri1/BA012``); ``xdata`` maps
    identifier letters to values (``{"X": "012W34.1"}``), sent in order as ``[X012W34.1]``.
    "Optional when unencrypted; required when encrypted": a key needs a ``timestamp``.
    """
    try:
        name = Token(token).value
    except ValueError:
        raise Dc09Error(
            Reason.UNKNOWN_TOKEN, f"token {token!r} is not SIA-DCS, ADM-CID or NULL (no '*')"
        ) from None
    if key is not None and timestamp is None:
        raise Dc09Error(Reason.TIMESTAMP, "an encrypted message must carry a timestamp")
    _check_text("data", data)
    when = format_timestamp(timestamp) if timestamp is not None else ""
    echo = _echo(_seq(seq), receiver, line, account)
    return _frame(
        ("*" if key is not None else "") + name,
        echo,
        f"{data}]{_blocks(xdata)}{when}",
        key=key,
        pad=pad,
        binary_crc=binary_crc,
    )


def build_ack(
    request: Dc09Message, now: datetime, key: Key | None = None, *, pad: PadSource = random_pad
) -> bytes:
    """ACK echoing SEQ, R, L and account; ``*ACK`` with the receiver's time when the request
    was encrypted (``key`` is then the account's key)."""
    return _reply("ACK", request, now, "", key, pad)


def build_rsp(
    request: Dc09Message,
    now: datetime,
    *,
    data: str = "",
    xdata: Mapping[str, str] | None = None,
    key: Key | None = None,
    pad: PadSource = random_pad,
) -> bytes:
    """RSP carrying ``data`` and ``xdata`` (e.g. ``{"K": new key}`` for a key request),
    ``*RSP`` with the receiver's time when the request was encrypted."""
    _check_text("data", data)
    return _reply("RSP", request, now, data, key, pad, _blocks(xdata))


def build_nak(now: datetime, *, binary_crc: bool = False) -> bytes:
    """``"NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY`` with the receiver's UTC time; never
    encrypted, so a panel whose key or clock is wrong can still read it and resync."""
    return _frame("NAK", "0000R0L0A0", "]" + format_timestamp(now), key=None, binary_crc=binary_crc)


def build_duh(request: Dc09Message | Header, *, binary_crc: bool | None = None) -> bytes:
    """``"DUH"SEQ[R]L#acct[]`` for a frame read correctly that cannot be processed; from the
    message, or from ``Dc09Error.header`` when parsing stopped after the header. The CRC
    format follows the request unless ``binary_crc`` says otherwise."""
    if binary_crc is None:
        binary_crc = _binary(request) if isinstance(request, Dc09Message) else False
    header = request.header if isinstance(request, Dc09Message) else request
    echo = _echo(header.seq, header.receiver, header.line, header.account)
    return _frame("DUH", echo, "]", key=None, binary_crc=binary_crc)


def _reply(
    token: str,
    request: Dc09Message,
    now: datetime,
    data: str,
    key: Key | None,
    pad: PadSource,
    blocks: str = "",
) -> bytes:
    echo = _echo(request.seq, request.receiver, request.line, request.account)
    if request.encrypted:
        if key is None:
            raise Dc09Error(
                Reason.NO_KEY, f"*{token} to an encrypted request needs the account's key"
            )
        tail = f"{data}]{blocks}{format_timestamp(now)}"
        return _frame("*" + token, echo, tail, key=key, pad=pad, binary_crc=_binary(request))
    return _frame(token, echo, f"{data}]{blocks}", key=None, binary_crc=_binary(request))


def _binary(request: Dc09Message) -> bool:
    return Variant.BINARY_CRC in request.variants_seen


def _seq(seq: int | str) -> str:
    text = f"{seq:04d}" if isinstance(seq, int) and 0 <= seq <= 9999 else str(seq)
    if not _SEQ.fullmatch(text):
        raise Dc09Error(Reason.FORMAT, f"sequence {seq!r} is not 4 decimal digits")
    return text


def _echo(seq: str, receiver: str | None, line: str, account: str) -> str:
    """``SEQ[Rrcvr]Lpref#acct`` — the part of a request every response repeats."""
    for name, value in (("receiver", receiver), ("line", line), ("account", account)):
        if value is not None and not _HEX_FIELD[name].fullmatch(value):
            raise Dc09Error(Reason.FORMAT, f"{name} {value!r} is not hex of the DC-09 length")
    return f"{seq}{'' if receiver is None else 'R' + receiver}L{line}#{account}"


def _blocks(xdata: Mapping[str, str] | None) -> str:
    """``[X012W34.1][M0026B9E4268B]`` from ``{"X": "012W34.1", "M": "0026B9E4268B"}``."""
    out = []
    for ident, value in (xdata or {}).items():
        if not _XDATA_ID.fullmatch(ident):
            raise Dc09Error(Reason.FORMAT, f"extended-data identifier {ident!r} is not A-Z")
        _check_text(f"extended data {ident}", value)
        out.append(f"[{ident}{value}]")
    return "".join(out)


def _check_text(what: str, text: str) -> None:
    bad = _UNSAFE.search(text)
    if bad:
        raise Dc09Error(Reason.FORMAT, f"{what} contains {bad.group()!r}")


def _frame(
    token: str,
    header: str,
    tail: str,
    *,
    key: Key | None,
    binary_crc: bool,
    pad: PadSource = random_pad,
) -> bytes:
    """LF, CRC, length, ``"token"`` + header + ``[`` + tail (encrypted with ``key``), CR."""
    head = f'"{token}"{header}['.encode("ascii")
    body = _encode(tail)
    region = head + (encrypt(key, body, pad).encode("ascii") if key is not None else body)
    if len(region) > MAX_LENGTH:
        raise Dc09Error(
            Reason.TOO_LONG, f"{len(region)} bytes do not fit the length field (at most 4095)"
        )
    crc = crc16_arc(region)
    crc_field = crc.to_bytes(2, "big") if binary_crc else f"{crc:04X}".encode("ascii")
    return b"\n" + crc_field + f"{len(region):04X}".encode("ascii") + region + b"\r"


def _encode(text: str) -> bytes:
    """DC-09 text is ASCII. Alarm text beyond it goes out as UTF-8, which ``parse_frame`` reads
    first (and exactly); panels' Windows-1252 is what it falls back to on receipt."""
    return text.encode("utf-8")
