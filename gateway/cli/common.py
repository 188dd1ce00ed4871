"""Helpers every subcommand shares: errors with exit codes, ``--data-dir``, times and filters."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeAlias

from gateway.journal import Filter, RecordType

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers()`` returns; argparse gives the class no public name."""


class CommandModule(Protocol):
    """What ``main`` needs from a subcommand module."""

    def register(self, subparsers: Subparsers) -> None: ...


class CommandError(Exception):
    """A failure the user can act on: printed as one line, never as a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CommandError):
    """Arguments that make no sense together; exit status 2 like argparse's own errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def data_dir_parent() -> argparse.ArgumentParser:
    """``--data-dir`` after the subcommand; SUPPRESS keeps it from hiding a global value."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=argparse.SUPPRESS,
        help="data directory holding journal.sqlite3",
    )
    return parent


def add_command(
    subparsers: Subparsers, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand parser that accepts ``--data-dir`` like every other one."""
    return subparsers.add_parser(
        name, parents=[data_dir_parent()], help=help, description=description
    )


# -- times -------------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
TIME_HELP = "ISO-8601 (naive means UTC) or an age such as 90s, 10m, 2h, 3d, 1w"


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An aware datetime from ISO-8601 or from an age ("2h" = two hours before ``now``)."""
    match = _RELATIVE.match(text)
    if match:
        age = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        return (now or datetime.now(UTC)) - age
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"invalid time {text!r}: use {TIME_HELP}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def time_arg(text: str) -> datetime:
    """``parse_time`` for argparse, so a bad value exits 2 with the option named."""
    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_time_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=time_arg, metavar="T", help=f"from T ({TIME_HELP})")
    parser.add_argument("--until", type=time_arg, metavar="T", help="up to and including T")


def time_range(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until``, refused when the range is empty by construction."""
    since: datetime | None = args.since
    until: datetime | None = args.until
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    return since, until


def to_us(value: datetime | None) -> int | None:
    """Microseconds since the epoch, the unit of the journal's ``ts_us`` column."""
    return None if value is None else int(value.timestamp() * 1_000_000)


# -- filters -----------------------------------------------------------------------------------


def _priority(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 4:
        raise argparse.ArgumentTypeError(f"invalid priority {text!r}: use 1 (highest) to 4")
    return value


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The options behind :class:`gateway.journal.Filter`; each may repeat or take several."""
    parser.add_argument(
        "--kind",
        dest="kinds",
        metavar="K",
        action="extend",
        nargs="+",
        default=[],
        help="kind prefix or glob (trouble, door.*)",
    )
    parser.add_argument(
        "--source",
        dest="sources",
        metavar="GLOB",
        action="extend",
        nargs="+",
        default=[],
        help="source address glob (hq/*)",
    )
    parser.add_argument(
        "--phase",
        dest="phases",
        metavar="P",
        action="extend",
        nargs="+",
        default=[],
        help="event phase, result status or audit result",
    )
    parser.add_argument(
        "--type",
        dest="types",
        metavar="TYPE",
        choices=[t.value for t in RecordType],
        action="extend",
        nargs="+",
        default=[],
        help="record types: event, command, result, audit (default: event)",
    )
    parser.add_argument(
        "--max-priority", type=_priority, metavar="N", help="events of priority 1..N only"
    )


def filter_from_args(args: argparse.Namespace) -> Filter:
    return Filter.build(
        types=args.types or None,
        kinds=args.kinds,
        sources=args.sources,
        phases=args.phases,
        max_priority=args.max_priority,
    )
