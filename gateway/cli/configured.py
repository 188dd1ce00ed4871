"""What commands that read ``anfang.yaml`` share: the ``-c`` option and loading with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.config import ConfigError, LoadedConfig, load_config
from gateway.sdk.discovery import InstalledPlugins, discover

EXIT_INVALID = 2


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="config file (default: the packaged demo config)",
    )


def load_or_report(path: Path | None) -> tuple[InstalledPlugins, LoadedConfig] | None:
    """Discover plugins and load the config; on problems print every one and return None."""
    installed = discover()
    for error in installed.errors:
        print(f"warning: {error}", file=sys.stderr)
    try:
        return installed, load_config(path, installed.classes)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None
