"""The canonical model: addresses, kinds, events, commands, results, audit and registry entities."""

from gateway.model.address import Address, AddressError, GbCode, GbCodeAllocator
from gateway.model.command import AuditEntry, Command, CommandResult, ResultStatus
from gateway.model.common import SCHEMA_VERSION, utcnow
from gateway.model.entities import Area, ArmingState, Device, DeviceStatus, Point
from gateway.model.event import Event
from gateway.model.ids import new_id, uuid7
from gateway.model.kinds import CORE_KINDS, KindError, KindRegistry, KindSpec, Phase

__all__ = [
    "CORE_KINDS",
    "SCHEMA_VERSION",
    "Address",
    "AddressError",
    "Area",
    "ArmingState",
    "AuditEntry",
    "Command",
    "CommandResult",
    "Device",
    "DeviceStatus",
    "Event",
    "GbCode",
    "GbCodeAllocator",
    "KindError",
    "KindRegistry",
    "KindSpec",
    "Phase",
    "Point",
    "ResultStatus",
    "new_id",
    "utcnow",
    "uuid7",
]
