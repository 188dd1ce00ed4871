"""The plugin host: the running gateway and its supervised plugin instances."""

from gateway.host.gateway import Gateway
from gateway.host.instance import InstanceRunner, InstanceState

__all__ = ["Gateway", "InstanceRunner", "InstanceState"]
