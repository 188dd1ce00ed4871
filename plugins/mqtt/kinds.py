"""Event kinds the connector adds under its own namespace."""

from __future__ import annotations

from gateway.model.kinds import CONDITION, ONE_OFF, KindSpec

BACKLOG = KindSpec(
    "mqtt.backlog",
    "The MQTT connector's undelivered backlog passed its warning share of the configured bound "
    "(broker unreachable or too slow); restore when it has drained",
    2,
    CONDITION,
)
SKIPPED = KindSpec(
    "mqtt.records_skipped",
    "The MQTT connector skipped records beyond its backlog bound (age or count); they remain "
    "in the journal but were not published",
    2,
    ONE_OFF,
)
KINDS = (BACKLOG, SKIPPED)
