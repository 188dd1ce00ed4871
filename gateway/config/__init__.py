"""``anfang.yaml``: schema, loading, and errors with key paths."""

from gateway.config.errors import ConfigError, ConfigIssue
from gateway.config.loader import LoadedConfig, load_config
from gateway.config.schema import GatewayConfig, Isolation, PluginInstanceConfig

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "GatewayConfig",
    "Isolation",
    "LoadedConfig",
    "PluginInstanceConfig",
    "load_config",
]
