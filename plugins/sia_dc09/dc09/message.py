"""A decoded DC-09 frame: the header a response echoes, the data block and extended data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from plugins.sia_dc09.dc09.errors import Header
from plugins.sia_dc09.dc09.timestamp import EARLY, LATE, check_window
from plugins.sia_dc09.dc09.variants import Variant


class Token(StrEnum):
    """The message tokens a receiver accepts; the ``*`` of encrypted forms is ``encrypted``."""

    SIA_DCS = "SIA-DCS"
    ADM_CID = "ADM-CID"
    NULL = "NULL"


_DATA_ACCOUNT = re.compile(r"#?([0-9A-Fa-f]{3,16})?\|", re.ASCII)


@dataclass(frozen=True, slots=True)
class Dc09Message:
    """One frame as sent; ``data`` is the plaintext block between ``[`` and ``]``."""

    token: Token
    encrypted: bool
    seq: str
    receiver: str | None
    """The ``R`` field's hex digits without the ``R``, or None when not sent."""
    line: str
    """The ``L`` (line/prefix) field's hex digits without the ``L``."""
    account: str
    data: str
    """E.g. ``#1234|Nri1/BA012`` (SIA-DCS), ``#1234|1130 01 015`` (ADM-CID), ``""`` (NULL)."""
    xdata: Mapping[str, str]
    """Extended data by identifier letter: ``{"X": "012W34.1", "M": "0026B9E4268B"}``."""
    timestamp: datetime | None
    """In UTC; None when the (unencrypted) frame carried none."""
    variants_seen: tuple[Variant, ...]
    raw: bytes

    @property
    def header(self) -> Header:
        token = f"*{self.token}" if self.encrypted else str(self.token)
        return Header(token, self.seq, self.receiver, self.line, self.account)

    @property
    def data_account(self) -> str | None:
        """The account written inside the data block (``#1234|``, ``1234|``), if any."""
        match = _DATA_ACCOUNT.match(self.data)
        return match.group(1) if match else None

    @property
    def body(self) -> str:
        """The data block after its ``#acct|`` (``Nri1/BA012``, ``1130 01 015``)."""
        match = _DATA_ACCOUNT.match(self.data)
        return self.data[match.end() :] if match else self.data

    @property
    def requests_key(self) -> bool:
        """A ``[K…]`` key-exchange block: DC-09 answers it with RSP instead of ACK."""
        return "K" in self.xdata

    def check_time(
        self,
        now: datetime,
        *,
        plain: bool = False,
        early: timedelta = EARLY,
        late: timedelta = LATE,
    ) -> None:
        """Raise ``Dc09Error(TIMESTAMP)`` when the message fails DC-09's timestamp test.

        Encrypted messages are always tested; unencrypted ones "may be accepted without a
        window", so only when ``plain`` is set and they carry a time.
        """
        if self.encrypted or plain:
            check_window(self.timestamp, now, required=self.encrypted, early=early, late=late)

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (what ``anfang decode`` prints as ``message``)."""
        return {
            "token": self.token.value,
            "encrypted": self.encrypted,
            "seq": self.seq,
            "receiver": self.receiver,
            "line": self.line,
            "account": self.account,
            "data": self.data,
            "xdata": dict(self.xdata),
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "variants_seen": [v.value for v in self.variants_seen],
            "raw": self.raw.decode("ascii", "backslashreplace"),
        }
