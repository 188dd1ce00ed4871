"""``anfang plugins``: what is installed, with versions, protocols, actions and kinds.

``anfang plugins new NAME --dir DIR`` starts a new plugin: a complete, installable distribution
(codec, mapping, transport, plugin, vectors, tests) for an example protocol to replace.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.cli.common import Subparsers, UsageError, add_command
from gateway.cli.templates import PluginNames, render_plugin
from gateway.sdk.discovery import discover


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "plugins", help="list installed plugins", description=__doc__ or "")
    p.add_argument("--json", action="store_true", help="one JSON document instead of text")
    p.set_defaults(func=run)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    new = actions.add_parser(
        "new",
        help="write a new plugin distribution from the template",
        description=(
            "Write a complete plugin distribution (anfang-plugin-NAME) into DIR: a receiver for "
            "an example TCP line protocol with its codec, vectors and tests, ready to "
            "'pip install -e DIR' and to adapt to a real protocol."
        ),
    )
    new.add_argument("name", metavar="NAME", help="plugin name: a lower-case identifier")
    new.add_argument(
        "--dir", type=Path, default=None, help="where to write it (default: ./anfang-plugin-NAME)"
    )
    new.add_argument("--force", action="store_true", help="write into DIR even if it is not empty")
    new.set_defaults(func=run_new)


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


def run_new(args: argparse.Namespace) -> int:
    try:
        names = PluginNames(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target: Path = args.dir or Path(names.placeholders["dist"])
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not args.force:
        raise UsageError(f"{target} is not empty; choose a new directory or add --force")
    files = render_plugin(names)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    placeholders = names.placeholders
    print(f"wrote {placeholders['dist']} ({len(files)} files) to {target}")
    print(f"next: pip install -e '{target}[test]' && anfang plugins && pytest {target}")
    if names.name in discover().classes:
        print(f"warning: a plugin named {names.name!r} is already installed", file=sys.stderr)
    return 0
