"""SIA-DCS content: the DC-03 code table, the data-block parser and the event mapping.

``data`` reads the block inside ``[...]`` of an ``SIA-DCS`` message (``#1234|Nri1/BA012``)
into :class:`SiaEvent` values, ``codes`` says what each two-letter DC-03 code means in the
canonical model, ``mapping`` turns events into canonical events and ``kinds`` holds the
``sia_dc09.unmapped`` kind for codes outside the table. The DC-09 frame (CRC, length,
encryption, ACK/NAK/DUH) is :mod:`plugins.sia_dc09.dc09`'s job.
"""

from plugins.sia_dc09.sia.codes import CODES, CodeSpec, lookup
from plugins.sia_dc09.sia.data import AccountForm, SiaBlock, SiaEvent, parse_data
from plugins.sia_dc09.sia.errors import SiaDataError, SiaDataReason
from plugins.sia_dc09.sia.kinds import NAMESPACE, UNMAPPED
from plugins.sia_dc09.sia.mapping import PROTOCOL, sia_to_events

__all__ = [
    "CODES",
    "NAMESPACE",
    "PROTOCOL",
    "UNMAPPED",
    "AccountForm",
    "CodeSpec",
    "SiaBlock",
    "SiaDataError",
    "SiaDataReason",
    "SiaEvent",
    "lookup",
    "parse_data",
    "sia_to_events",
]
