"""``anfang check -c FILE``: validate a config, every plugin's own schema included."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.cli.common import add_command
from gateway.config import ConfigError, load_config
from gateway.sdk.discovery import discover

EXIT_INVALID = 2


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "check",
        help="validate a config file and report every problem",
        description=__doc__ or "",
    )
    p.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="config file (default: the packaged demo config)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    installed = discover()
    for error in installed.errors:
        print(f"warning: {error}", file=sys.stderr)
    try:
        loaded = load_config(args.config, installed.classes)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
    g = loaded.gateway
    enabled = [p for p in g.plugins if p.enabled]
    print(
        f"{loaded.source}: OK — site {g.site.id}, {len(enabled)} plugin instance(s), "
        f"{len(g.devices)} pinned device(s), {len(g.areas)} area(s)"
    )
    return 0
