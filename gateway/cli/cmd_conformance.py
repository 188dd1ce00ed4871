"""``anfang conformance PLUGIN [--json]``: check an installed plugin against the SDK contract.

Runs the plugin in a real gateway on a throwaway journal (nothing touches your data directory)
and prints one line per check; see docs/conformance.md for what each check catches. Exit 0 when
every check passes, 1 when one fails, 2 for an unknown plugin.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from gateway import event_loop, logs
from gateway.cli.common import CommandError, add_command


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "conformance",
        help="check a plugin against the SDK contract",
        description=__doc__ or "",
    )
    p.add_argument("plugin", help="installed plugin name (see 'anfang plugins')")
    p.add_argument("--json", action="store_true", help="one JSON document instead of text")
    p.add_argument(
        "--max-block-ms",
        type=float,
        default=200.0,
        help="longest the plugin may hold the event loop (default 200)",
    )
    p.add_argument(
        "--fuzz-examples", type=int, default=None, help="frames per codec fuzz run (default 600)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show the gateway's logs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from conformance import check_plugin
        from conformance.runner import UnknownPluginError
    except ImportError as exc:  # pragma: no cover - the kit ships with the gateway
        raise CommandError(f"the conformance kit is not installed: {exc}") from None
    logs.configure("debug" if args.verbose else "warning", "auto")
    try:
        checking = check_plugin(
            args.plugin, max_block_ms=args.max_block_ms, fuzz_examples=args.fuzz_examples
        )
        report = event_loop.run(checking)  # the loop `anfang run` would run the plugin on
    except UnknownPluginError as exc:
        raise CommandError(str(exc), code=2) from None
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render())
    return 0 if report.ok else 1
