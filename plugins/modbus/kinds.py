"""Event kinds this plugin adds (the core table has no telemetry or identity kinds yet)."""

from __future__ import annotations

from gateway.model.kinds import CONDITION, CORE_KINDS, STATE, KindSpec

TELEMETRY = KindSpec(
    "modbus.telemetry",
    "Measured values of a device (data.values, data.units): sent on change beyond the "
    "deadband and at the heartbeat",
    4,
    STATE,
)
IDENTITY = KindSpec(
    "modbus.identity", "Device identity read from it (data: model, serial, firmware)", 4, STATE
)
FAULT = KindSpec(
    "modbus.fault", "A condition the device's profile reports that no core kind names", 3, CONDITION
)
KINDS = (TELEMETRY, IDENTITY, FAULT)


def known_kinds() -> set[str]:
    """What a profile may name in ``alarms[].kind``."""
    return {spec.name for spec in CORE_KINDS} | {spec.name for spec in KINDS}
