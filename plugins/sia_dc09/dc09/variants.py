"""Vendor deviations from DC-09 a receiver may tolerate, one switch each, and how they show.

Off by default unless tolerating them cannot hide damage or change a field's meaning:

* ``trailing_nuls`` (on): "Some senders append NULs after CR (ioBroker strips trailing 0x00)".
  They lie outside the CRC, so dropping them loses nothing.
* ``data_without_account`` (on): "Many panels omit ``#acct|`` or the ``#`` (PROSEC
  ``[3044|NOP1]``, pysiaalarm ``[|Nri1/CL501]``, ``[Nri1/WA000]``)". The CRC covers the
  block and the header's ``#acct`` names the account either way.
* ``pad_without_bar`` (on): the notes say to "also accept 'pad then ]' for NULL" because
  pysiaalarm's ``*NULL`` is padded with ``p`` and no ``|``; applied to NULL only, whose data is
  empty, so the pad's end is unambiguous.
* ``binary_crc`` (off): Lupusec/OPAX/Egardia send the CRC as 2 raw bytes, MSB first.
* ``decimal_length`` (off): ELDES writes the length in decimal (``0047`` for 0x2F).
* ``local_time`` (off): Egardia/Woonveilig timestamps in local time; give the zone.

Every variant that applied to a frame is listed in its ``variants_seen``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum


class Variant(StrEnum):
    BINARY_CRC = "binary_crc"
    DECIMAL_LENGTH = "decimal_length"
    TRAILING_NULS = "trailing_nuls"
    DATA_WITHOUT_ACCOUNT = "data_without_account"
    PAD_WITHOUT_BAR = "pad_without_bar"
    LOCAL_TIME = "local_time"
    DATA_ACCOUNT_DIFFERS = "data_account_differs"
    """Not a tolerance to configure: a frame whose data block names another account than its
    header. It is accepted (an alarm is never dropped for it) under the header's account, and
    flagged so the centre sees it."""


@dataclass(frozen=True, slots=True)
class Variants:
    """Which deviations ``parse_frame`` accepts."""

    binary_crc: bool = False
    decimal_length: bool = False
    trailing_nuls: bool = True
    data_without_account: bool = True
    pad_without_bar: bool = True
    local_time: tzinfo | None = None
    """Read timestamps in this zone (a ``zoneinfo.ZoneInfo``) instead of UTC."""

    @classmethod
    def lenient(cls, local_time: tzinfo | None = None) -> Variants:
        """Every variant on: for diagnostics and for receivers facing the panels that need them."""
        return cls(binary_crc=True, decimal_length=True, local_time=local_time)


DEFAULT = Variants()
