"""``anfang schema [NAME]``: the JSON schema of a canonical record, for platform integrators."""

from __future__ import annotations

import argparse
import sys

from gateway.cli.common import Subparsers, UsageError, add_command
from gateway.model.docgen import SCHEMA_MODELS, schema_text


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "schema",
        help="print the JSON schema of a record type",
        description="Print the JSON schema of one canonical model; without NAME, list the names.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help=", ".join(SCHEMA_MODELS))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name is None:
        for name in SCHEMA_MODELS:
            print(name)
        return 0
    model = SCHEMA_MODELS.get(args.name)
    if model is None:
        raise UsageError(f"unknown schema {args.name!r}; choose from: {', '.join(SCHEMA_MODELS)}")
    sys.stdout.write(schema_text(model))
    return 0
