"""Event kinds the forwarder adds under its own namespace."""

from __future__ import annotations

from gateway.model.kinds import ONE_OFF, KindSpec

REFUSED = KindSpec(
    "dc09_forward.refused",
    "An alarm receiving centre answered DUH to a forwarded event: it read the message but "
    "will not process it (unknown account or code); the event was not delivered there and "
    "is not sent again",
    2,
    ONE_OFF,
)
KINDS = (REFUSED,)
