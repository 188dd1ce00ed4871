"""``anfang backup DEST``: an online, consistent copy of the journal that verifies on its own."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from gateway.cli.common import CommandError, Subparsers, add_command
from gateway.journal.evidence import backup
from gateway.journal.store import DB_NAME


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "backup",
        help="copy the journal to a new directory",
        description=(
            "Copy the journal (consistently, while the gateway runs) into the new directory "
            "DEST, with its own anchor file; 'anfang verify --data-dir DEST' checks the copy."
        ),
    )
    parser.add_argument("dest", metavar="DEST", type=Path, help="directory to create")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dest: Path = args.dest
    _create(dest)
    try:
        head = backup(args.data_dir, dest / DB_NAME)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # we created it, so nothing else is in it
        raise
    print(f"backup of seq {head.seq} written to {dest}")
    return 0


def _create(dest: Path) -> None:
    """Make DEST ourselves (0700, like the data directory); an existing one is never reused."""
    if dest.exists():
        raise CommandError(f"backup destination {dest} already exists; choose a new directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        dest.mkdir(mode=0o700)
    except FileExistsError:
        raise CommandError(
            f"backup destination {dest} already exists; choose a new directory"
        ) from None
