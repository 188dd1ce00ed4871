"""``anfang check -c FILE``: validate a config, every plugin's own schema included."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.cli.common import add_command
from gateway.cli.configured import EXIT_INVALID, add_config_option, load_or_report
from gateway.config.errors import ConfigError
from gateway.config.overrides import disagreements, read_overrides
from gateway.paths import default_data_dir
from gateway.rules.check import check_rule_references
from gateway.rules.facts import StaticFacts


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "check",
        help="validate a config file and report every problem",
        description=__doc__ or "",
    )
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = load_or_report(args.config)
    if found is None:
        return EXIT_INVALID
    installed, loaded = found
    g = loaded.gateway
    enabled = [p for p in g.plugins if p.enabled]
    data_dir = Path(args.data_dir or g.data_dir or default_data_dir()).expanduser()
    seen = StaticFacts.from_data_dir(g, data_dir)
    problems = check_rule_references(
        g, installed.classes, installed.kinds, seen.devices, seen.points
    )
    if problems:
        print(ConfigError(loaded.source, problems).render(), file=sys.stderr)
        return EXIT_INVALID
    print(
        f"{loaded.source}: OK — site {g.site.id}, {len(enabled)} plugin instance(s), "
        f"{len(g.devices)} pinned device(s), {len(g.areas)} area(s), {len(g.rules)} rule(s)"
    )
    for line in disagreements(g, read_overrides(data_dir)):
        print(f"warning: {line}", file=sys.stderr)
    return 0
