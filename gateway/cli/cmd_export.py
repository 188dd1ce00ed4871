"""``anfang export``: an evidence export of a time range that a third party can check alone."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.cli.common import CommandError, Subparsers, add_command, add_time_arguments, time_range
from gateway.journal.evidence import export_range


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "export",
        help="write an evidence export of a time range",
        description=(
            "Write the records received in [--since, --until] as JSON lines, with the proof up "
            "to the chain head; 'anfang verify --export FILE' checks it without the database."
        ),
    )
    add_time_arguments(parser)
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="new file to write (default: stdout)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    since, until = time_range(args)
    if args.output in (None, "-"):
        summary = export_range(args.data_dir, sys.stdout, since, until)
        sys.stdout.flush()
    else:
        summary = _export_to_file(args.data_dir, Path(args.output), since, until)
    print(_describe(summary, args.output), file=sys.stderr)
    return 0


def _export_to_file(
    data_dir: Path, path: Path, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """Write a new file only; a failed export leaves no partial file behind."""
    try:
        fh = path.open("x", encoding="utf-8")
    except FileExistsError:
        raise CommandError(f"{path} already exists; choose a new file name") from None
    try:
        with fh:
            return export_range(data_dir, fh, since, until)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def _describe(summary: dict[str, Any], output: str | None) -> str:
    head = summary["head"]
    span = f"seq {summary['from_seq']}..{summary['to_seq']}" if summary["records"] else "none"
    where = f" to {output}" if output not in (None, "-") else ""
    return (
        f"exported {summary['records']} record(s) ({span}){where}; "
        f"chain head seq {head['seq']} hash {head['hash']}"
    )
