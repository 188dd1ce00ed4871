"""Devices, points and areas; supervision; device clocks."""

from gateway.registry.registry import Registry
from gateway.registry.statedb import StateDB, StateStore

__all__ = ["Registry", "StateDB", "StateStore"]
