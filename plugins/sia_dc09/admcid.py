"""ADM-CID data blocks: a Contact ID event carried inside DC-09, ``#acct|QXYZ GG CCC``.

DC-09 §5.4: the data block of an ``ADM-CID`` message is the account, then the Contact ID event
without message type and checksum (DC-09 has its own CRC): qualifier and event code, group
(area), zone or user. Panels vary in spacing and in repeating the account, so both are optional.
"""

from __future__ import annotations

import re

from plugins.contact_id.codec import ContactIdMessage, MessageType, Qualifier
from plugins.contact_id.errors import ContactIdError

_BLOCK = re.compile(
    r"^(?:#?(?P<acct>[0-9A-Fa-f]{3,16})\|)?"
    r"(?P<q>[0-9])(?P<code>[0-9A-Fa-f]{3}) ?(?P<gg>[0-9A-Fa-f]{2}) ?(?P<ccc>[0-9A-Fa-f]{3})$"
)


def parse_admcid(data: str, account: str) -> ContactIdMessage:
    """The Contact ID report in an ADM-CID block; ContactIdError says what is wrong."""
    text = data.strip().lstrip("|")
    match = _BLOCK.match(text)
    if match is None:
        raise ContactIdError(
            f"ADM-CID data {data!r} is not '#acct|QXYZ GG CCC' (qualifier, code, group, zone)"
        )
    try:
        qualifier = Qualifier(match["q"])
    except ValueError:
        raise ContactIdError(
            f"ADM-CID qualifier {match['q']!r} is not 1 (new), 3 (restore) or 6 (status)"
        ) from None
    return ContactIdMessage(
        account=account,
        message_type=MessageType.PREFERRED,
        qualifier=qualifier,
        event_code=match["code"].upper(),
        group=match["gg"].upper(),
        ccc=match["ccc"].upper(),
        checksum="",
    )
