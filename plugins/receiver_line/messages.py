"""What one receiver line says, as typed values: the codec's output, the mapping's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugins.contact_id.codec import ContactIdMessage
from plugins.sia_dc09.sia.data import SiaBlock


@dataclass(frozen=True, slots=True)
class Header:
    """The start of every Sur-Gard line: protocol id, receiver number, line (card) number.

    The receiver number is two digits; the line number is what follows (one digit on the
    MLR2, three on System I/II/III/5 by default, up to seven: System 5 option [409]).
    """

    protocol: str
    receiver: str
    line: str

    def to_dict(self) -> dict[str, str]:
        return {"protocol": self.protocol, "receiver": self.receiver, "line": self.line}


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``1RRL           @    ``: the receiver's link test; answered ACK, never journaled."""

    header: Header
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "heartbeat", **self.header.to_dict()}


@dataclass(frozen=True, slots=True)
class CidLine:
    """A Contact ID report (protocol ``5``: 4-digit account, ``Q``: 10-digit account)."""

    header: Header
    report: ContactIdMessage
    raw: str
    format_id: str = "18"
    """As printed: ``18``/``98`` (4-digit account) or ``58`` (10-digit account)."""

    @property
    def account(self) -> str:
        return self.report.account

    def to_dict(self) -> dict[str, Any]:
        out = {"type": "contact_id", **self.header.to_dict(), **self.report.to_dict()}
        out["format_id"] = self.format_id
        del out["checksum"], out["checksum_ok"]  # the receiver checked it; lines carry none
        return out


@dataclass(frozen=True, slots=True)
class SiaLine:
    """An SIA block (protocol ``S``; ``3`` is SIA protocol 1, one fixed-width event; ``0`` and
    account-0000 ``S`` lines are the receiver's own status, ``internal``)."""

    header: Header
    account: str
    block: SiaBlock
    internal: bool
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "sia",
            **self.header.to_dict(),
            "account": self.account,
            "internal": self.internal,
            "events": [event.to_dict() for event in self.block.events],
        }


@dataclass(frozen=True, slots=True)
class ForeignLine:
    """A well-formed line of a protocol this bridge does not decode (4/2, BFSK, caller id...).

    It is journaled whole (``receiver_line.unsupported``) and ACKed: a NAK would only make the
    receiver repeat it until it gives up, and the signal would then be nowhere.
    """

    header: Header
    body: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "unsupported", **self.header.to_dict(), "body": self.body}


Message = Heartbeat | CidLine | SiaLine | ForeignLine
