"""Reading a receiver's answer (ACK, NAK, DUH, RSP), for transmitters and receiver tests.

The same checks as for a request — CRC, length, header — and for ``*ACK``/``*RSP`` the
decryption with the account's key and the timestamp inside, which is how a panel knows the
answer really came from a receiver holding its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from plugins.sia_dc09.dc09.crypto import Key, decrypt, strip_pad
from plugins.sia_dc09.dc09.errors import Dc09Error, Reason
from plugins.sia_dc09.dc09.frame import _checked_region, _header, _text, _unframed
from plugins.sia_dc09.dc09.timestamp import parse_timestamp
from plugins.sia_dc09.dc09.variants import DEFAULT, Variant

RESPONSE_TOKENS = ("ACK", "NAK", "DUH", "RSP")


@dataclass(frozen=True, slots=True)
class Dc09Response:
    token: str
    """ACK, NAK, DUH or RSP."""
    encrypted: bool
    seq: str
    receiver: str | None
    line: str
    account: str
    data: str
    timestamp: datetime | None

    def answers(self, seq: str, account: str) -> bool:
        """Whether it echoes the request's sequence and account (a NAK echoes neither)."""
        return self.seq == seq and self.account.upper() == account.upper()


def parse_response(raw: bytes, key: Key | None = None) -> Dc09Response:
    seen: list[Variant] = []
    text = _text(_checked_region(_unframed(raw, DEFAULT, seen), DEFAULT, seen))
    if text.startswith('"NAK"'):  # "NAK"0000R0L0A0[]_time: no account to echo, never encrypted
        stamp = text[text.index("_") :] if "_" in text else None
        return Dc09Response(
            token="NAK",
            encrypted=False,
            seq=text[5:9],
            receiver=None,
            line="0",
            account="",
            data="",
            timestamp=parse_timestamp(stamp, UTC) if stamp else None,
        )
    header, tail = _header(text)
    encrypted = header.token.startswith("*")
    token = header.token.removeprefix("*")
    if token not in RESPONSE_TOKENS:
        raise Dc09Error(Reason.UNKNOWN_TOKEN, f'"{header.token}" is not a receiver response')
    if encrypted:
        if key is None:
            raise Dc09Error(Reason.NO_KEY, f"*{token} needs the account's key to be read")
        plain, _ = strip_pad(decrypt(key, tail), bar_optional=True)
        tail = _text(plain)
    data, _, rest = tail.partition("]")
    timestamp = None
    if "_" in rest:
        stamp = rest[rest.index("_") :]
        timestamp = parse_timestamp(stamp, UTC)
    return Dc09Response(
        token=token,
        encrypted=encrypted,
        seq=header.seq,
        receiver=header.receiver,
        line=header.line,
        account=header.account,
        data=data,
        timestamp=timestamp,
    )
