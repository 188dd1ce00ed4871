"""``anfang plugins``: what is installed, with versions, protocols, actions and kinds."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.cli.common import add_command
from gateway.sdk.discovery import discover


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "plugins", help="list installed plugins", description=__doc__ or "")
    p.add_argument("--json", action="store_true", help="one JSON document instead of text")
    p.set_defaults(func=run)


def describe() -> tuple[list[dict[str, Any]], list[str]]:
    installed = discover()
    out = []
    for name, cls in sorted(installed.classes.items()):
        out.append(
            {
                "name": name,
                "version": cls.version,
                "distribution": installed.distributions.get(name),
                "description": cls.description,
                "protocols": list(cls.protocols),
                "device_kinds": list(cls.device_kinds),
                "actions": list(cls.actions),
                "kinds": [k.name for k in cls.kinds],
                "config_schema": cls.Config.model_json_schema(),
            }
        )
    return out, installed.errors


def run(args: argparse.Namespace) -> int:
    plugins, errors = describe()
    if args.json:
        print(json.dumps({"plugins": plugins, "errors": errors}, indent=2))
    else:
        for p in plugins:
            print(f"{p['name']} {p['version']} — {p['description']}")
            for key in ("protocols", "device_kinds", "actions", "kinds"):
                if p[key]:
                    print(f"  {key.replace('_', ' ')}: {', '.join(p[key])}")
        if not plugins:
            print("no plugins installed")
    for error in errors:
        print(f"warning: {error}", file=sys.stderr)
    return 0
