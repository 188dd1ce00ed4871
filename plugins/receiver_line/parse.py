"""One receiver line read into a typed message, or LineError naming what is wrong: no I/O.

The layouts are Sur-Gard's "computer output" (SG automation output protocol; MLR2-DG, MLR2-E,
System III and System 5 manuals), quoted where they are implemented; sources in
``docs/plugins/receiver-line.md``. ``RR`` is the receiver number, ``L``/``LLL`` the line:

- heartbeat ``1RRL           @    `` (11 spaces, ``@``, 4 spaces; ``1RR000...`` on 5-digit
  headers);
- Contact ID ``5RRLs18AAAAQXYZGGCCC`` (``s`` a space, ``18`` or ``98``; Q is ``E`` new event
  or opening, ``R`` restore or closing, ``P`` previous event) and the 10-digit-account form
  ``QRRLLLs58AAAAAAAAAAQXYZGGCCC``;
- SIA ``SRRLLL[#AAAAAA|Nri1/BA01]`` and the receiver's own ``0RRLLL[#0000|Nxxyy]``;
- SIA protocol 1 ``3RRLssssAAAAAAXXYYYY`` (one event: code XX, zone YYYY).

Every other protocol id with a header is a ``ForeignLine`` (journaled, never refused).
Digits are read leniently where receivers differ: the header is 3-9 digits (System 5 option
[409]), the space before ``18`` may be missing, and the qualifier may be a digit (1/3/6) as
in DC-05 itself.
"""

from __future__ import annotations

import re

from plugins.contact_id.codec import ContactIdMessage, MessageType, Qualifier
from plugins.receiver_line.errors import LineError, LineReason
from plugins.receiver_line.messages import (
    CidLine,
    ForeignLine,
    Header,
    Heartbeat,
    Message,
    SiaLine,
)
from plugins.receiver_line.splitter import MAX_LINE
from plugins.sia_dc09.sia.data import parse_data
from plugins.sia_dc09.sia.errors import SiaDataError

_HDR = r"(?P<hdr>[0-9A-Fa-f]{3,9})"
_HEARTBEAT = re.compile(rf"1{_HDR} +@ *", re.ASCII)
_CID_TAIL = (
    r"(?P<q>[ERP136])(?P<code>[0-9A-Fa-f]{3})(?P<gg>[0-9A-Fa-f]{2})(?P<ccc>[0-9A-Fa-f]{3}) *"
)
_CID4 = re.compile(rf"5{_HDR} ?(?P<mt>18|98)(?P<acct>[0-9A-Fa-f]{{4}}){_CID_TAIL}", re.ASCII)
_CID10 = re.compile(rf"Q{_HDR} ?(?P<mt>58)(?P<acct>[0-9A-Fa-f]{{10}}){_CID_TAIL}", re.ASCII)
_SIA = re.compile(rf"(?P<pid>[S0]){_HDR}\[(?P<block>[^\[\]]*)\] *", re.ASCII)
_SIA1_HEAD = re.compile(rf"3{_HDR} *", re.ASCII)
_SIA1_TAIL = re.compile(r"(?P<acct> *[0-9A-Fa-f]+)(?P<code>[A-Z]{2})(?P<zone>[0-9]{4})", re.ASCII)
_FOREIGN = re.compile(r"(?P<pid>[0-9A-Za-z])(?P<rr>[0-9A-Fa-f]{2})(?P<body>.*)", re.ASCII)

QUALIFIERS = {**{q.letter: q.value for q in Qualifier}, **{q.value: q.value for q in Qualifier}}
"""The printed qualifier (SG: "E=New event or opening, R=New restore or closing, P=Previous
event") as the DC-05 digit Contact ID's tables use."""

INTERNAL_ACCOUNT = "0000"
"""System 5 option [410]: the receiver's own messages are ``0RRLLL[#AAAA|Nxxyy]`` or, with
protocol id S, ``SRRLLL[#AAAA|Nxxyy]`` — "AAAA: Account code, always 0000"."""


def _header(protocol: str, digits: str) -> Header:
    return Header(protocol, digits[:2].upper(), digits[2:].upper())


def _text(line: bytes | str, max_line: int) -> str:
    if len(line) > max_line:
        raise LineError(LineReason.TOO_LONG, f"line of {len(line)} bytes is longer than {max_line}")
    raw = line.encode("latin-1", "replace") if isinstance(line, str) else line
    for position, byte in enumerate(raw, start=1):
        if not 0x20 <= byte <= 0x7E:
            raise LineError(
                LineReason.CHARACTER,
                f"byte 0x{byte:02x} at position {position} is not printable ASCII (a garbled line)",
            )
    return raw.decode("ascii")


def parse_line(line: bytes | str, max_line: int = MAX_LINE) -> Message:
    """The message one line carries (without its DC4/CR terminator); ``max_line`` is the
    instance's configured limit (the splitter enforces the same one)."""
    text = _text(line, max_line)
    if not text:
        raise LineError(LineReason.HEADER, "empty line")
    pid = text[0]
    if pid == "1" and "@" in text:
        return _heartbeat(text)
    if pid == "5":
        return _cid(text, _CID4, "5RRLs18AAAAQXYZGGCCC")
    if pid == "Q":
        return _cid(text, _CID10, "QRRLLLs58AAAAAAAAAAQXYZGGCCC")
    if pid in "S0":
        return _sia(text)
    if pid == "3":
        return _sia_protocol_1(text)
    return _foreign(text)


def _heartbeat(text: str) -> Heartbeat:
    match = _HEARTBEAT.fullmatch(text)
    if match is None:
        raise LineError(
            LineReason.HEARTBEAT,
            f"{text!r} is not the heartbeat '1RRL           @    ' (digits, spaces, '@')",
        )
    return Heartbeat(_header("1", match["hdr"]), text)


def _cid(text: str, pattern: re.Pattern[str], layout: str) -> CidLine:
    match = pattern.fullmatch(text)
    if match is None:
        raise LineError(
            LineReason.CONTACT_ID,
            f"{text!r} is not a Contact ID line {layout} "
            "(Q one of E/R/P or 1/3/6; hex digits elsewhere)",
        )
    report = ContactIdMessage(
        account=match["acct"].upper(),
        message_type=MessageType.OPTIONAL if match["mt"] == "98" else MessageType.PREFERRED,
        qualifier=Qualifier(QUALIFIERS[match["q"]]),
        event_code=match["code"].upper(),
        group=match["gg"].upper(),
        ccc=match["ccc"].upper(),
        checksum="",  # the receiver checked the panel's checksum; the line carries none
    )
    return CidLine(_header(text[0], match["hdr"]), report, text, match["mt"])


def _sia(text: str) -> SiaLine:
    match = _SIA.fullmatch(text)
    if match is None:
        raise LineError(
            LineReason.SIA, f"{text!r} is not an SIA line SRRLLL[#AAAAAA|...] (or 0RRLLL[...])"
        )
    try:
        block = parse_data(match["block"])
    except SiaDataError as exc:
        raise LineError(LineReason.SIA, f"SIA block {match['block']!r}: {exc}") from None
    if block.account is None:
        raise LineError(
            LineReason.SIA, f"SIA block {match['block']!r} names no account ('#AAAA|' missing)"
        )
    account = block.account.upper()
    internal = match["pid"] == "0" or account == INTERNAL_ACCOUNT
    return SiaLine(_header(match["pid"], match["hdr"]), account, block, internal, text)


def _sia_protocol_1(text: str) -> SiaLine:
    """``3RRLssssAAAAAAXXYYYY``: read from the end (the event is fixed width, the header not)."""
    head, tail = text[:-12], text[-12:]
    head_match = _SIA1_HEAD.fullmatch(head)
    tail_match = _SIA1_TAIL.fullmatch(tail)  # 12 characters: the account field is 6 wide
    if head_match is None or tail_match is None:
        raise LineError(
            LineReason.SIA,
            f"{text!r} is not SIA protocol 1 3RRLssssAAAAAAXXYYYY "
            "(account 6 wide, two-letter code, 4-digit zone)",
        )
    account = tail_match["acct"].strip().upper()
    try:
        block = parse_data(f"#{account}|N{tail_match['code']}{tail_match['zone']}")
    except SiaDataError as exc:  # an account of 1-2 digits: DC-09 accounts are 3-16
        raise LineError(LineReason.SIA, f"SIA protocol 1 line {text!r}: {exc}") from None
    return SiaLine(_header("3", head_match["hdr"]), account, block, False, text)


def _foreign(text: str) -> ForeignLine:
    match = _FOREIGN.fullmatch(text)
    if match is None:
        raise LineError(
            LineReason.HEADER,
            f"{text[:24]!r} does not start with a protocol id and a 2-digit receiver number",
        )
    return ForeignLine(Header(match["pid"], match["rr"].upper(), ""), match["body"], text)
