"""``anfang config export [-c FILE] [-o OUT]``: the effective configuration as YAML.

The YAML file with the edits made through the API (names, locations, areas) folded into its
device pins, so the file can become the truth again. ``${VARIABLES}`` are written as they are
in the file, never their values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from gateway.cli.common import CommandError, add_command, data_dir_parent
from gateway.cli.configured import add_config_option
from gateway.config.loader import parse_yaml
from gateway.config.overrides import fold, foreign_edits, of_site, read_overrides
from gateway.paths import default_data_dir


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "config", help="the effective configuration", description=__doc__ or ""
    )
    sub = p.add_subparsers(dest="config_action", required=True)
    export = sub.add_parser(
        "export", parents=[data_dir_parent()], help="the YAML with the API's edits folded in"
    )
    add_config_option(export)
    export.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    export.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.config is None:
        raise CommandError("config export needs the file to export: -c anfang.yaml", code=2)
    try:
        text = Path(args.config).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {args.config}: {exc.strerror}") from None
    raw = parse_yaml(text, str(args.config)) or {}
    data_dir = Path(args.data_dir or raw.get("data_dir") or default_data_dir()).expanduser()
    edits = read_overrides(data_dir)
    site = raw["site"].get("id") if isinstance(raw.get("site"), dict) else None
    if isinstance(site, str):
        edits, others = of_site(edits, site)
        if others:
            print(f"warning: {foreign_edits(str(data_dir), others, site)}", file=sys.stderr)
    out = yaml.safe_dump(fold(raw, edits), sort_keys=False, allow_unicode=True)
    if args.output is None:
        sys.stdout.write(out)
    else:
        if args.output.exists():
            raise CommandError(f"{args.output} exists; choose a new name")
        args.output.write_text(out, encoding="utf-8")
    return 0
