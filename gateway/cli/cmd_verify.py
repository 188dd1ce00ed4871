"""``anfang verify``: is the journal (or an evidence export) exactly what was written?"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from gateway.cli.common import Subparsers, add_command
from gateway.journal import VerifyReport, verify_journal
from gateway.journal.chain import ChainHead
from gateway.journal.evidence import ExportCheck, verify_export
from gateway.journal.store import DB_NAME

HASH_PREFIX = 16


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "verify",
        help="check the journal's hash chain and anchor",
        description=(
            "Walk the journal's hash chain and anchor file (read-only; safe while the gateway "
            "runs). Exit status 0 when intact, 1 when not. With --export, check an evidence "
            "export on its own and print the chain head it reaches, to compare with a head "
            "published outside the gateway."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--export", metavar="FILE", help="check this evidence export instead ('-' reads stdin)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.export is not None:
        return _run_export(args.export, as_json=args.json)
    report = verify_journal(args.data_dir)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(args.data_dir / DB_NAME, report)
    return 0 if report.ok else 1


def _short(head: ChainHead | None) -> str:
    if head is None:
        return "none"
    return f"seq {head.seq} hash {head.hash_hex[:HASH_PREFIX]}…"


def _print_report(db: Path, report: VerifyReport) -> None:
    print(f"journal:    {db}")
    print(f"records:    {report.records} ({report.tombstones} tombstones)")
    print(f"head:       {_short(report.head)}")
    print(f"anchor:     {_short(report.anchor)}")
    if report.ok:
        print("result:     intact")
        return
    print(f"result:     NOT INTACT ({len(report.problems)} problem(s))")
    for problem in report.problems:
        print(problem)


def _run_export(name: str, *, as_json: bool) -> int:
    if name == "-":
        check = verify_export(sys.stdin)
    else:
        with Path(name).open(encoding="utf-8") as fh:
            check = verify_export(fh)
    if as_json:
        print(json.dumps(dataclasses.asdict(check), indent=2))
    else:
        _print_export_check(name, check)
    return 0 if check.ok else 1


def _print_export_check(name: str, check: ExportCheck) -> None:
    print(f"export:     {name}")
    print(f"records:    {check.records}")
    if check.head is not None:
        print(f"head:       seq {check.head['seq']} hash {check.head['hash']}")
    if check.ok:
        print("result:     intact; compare the head above with one published outside the gateway")
        return
    print(f"result:     NOT INTACT ({len(check.problems)} problem(s))")
    for problem in check.problems:
        print(problem)
