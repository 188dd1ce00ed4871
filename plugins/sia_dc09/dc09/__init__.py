"""SIA DC-09 frames as a sans-IO codec: bytes in, typed messages out, responses as bytes.

``frame`` checks and decodes one frame (CRC-16/ARC, length, token, header, data and extended
data blocks, timestamp, AES decryption), ``build`` writes frames and the ACK/NAK/DUH/RSP
responses, ``stream`` cuts a TCP byte stream into frames, ``timestamp`` holds the acceptance
window. Nothing here opens a socket or reads a clock: the receiver passes ``now``.
The authority is ``shared/protocols/sia_dc09.md`` (DC-09-2013 draft, pysiaalarm, ioBroker, Ajax).
"""

from plugins.sia_dc09.dc09.build import build_ack, build_duh, build_frame, build_nak, build_rsp
from plugins.sia_dc09.dc09.crc import crc16_arc
from plugins.sia_dc09.dc09.crypto import Key
from plugins.sia_dc09.dc09.errors import Dc09Error, Header, Reason
from plugins.sia_dc09.dc09.frame import MAX_FRAME_BYTES, KeyLookup, crc_format, parse_frame
from plugins.sia_dc09.dc09.message import Dc09Message, Token
from plugins.sia_dc09.dc09.stream import FrameSplitter
from plugins.sia_dc09.dc09.timestamp import (
    EARLY,
    LATE,
    check_window,
    format_timestamp,
    parse_timestamp,
    within_window,
)
from plugins.sia_dc09.dc09.variants import DEFAULT, Variant, Variants

__all__ = [
    "DEFAULT",
    "EARLY",
    "LATE",
    "MAX_FRAME_BYTES",
    "Dc09Error",
    "Dc09Message",
    "FrameSplitter",
    "Header",
    "Key",
    "KeyLookup",
    "Reason",
    "Token",
    "Variant",
    "Variants",
    "build_ack",
    "build_duh",
    "build_frame",
    "build_nak",
    "build_rsp",
    "check_window",
    "crc16_arc",
    "crc_format",
    "format_timestamp",
    "parse_frame",
    "parse_timestamp",
    "within_window",
]
