"""The ``anfang`` entry point: parses arguments, runs one subcommand, turns errors into one line.

Subcommands live in their own modules (``cmd_*.py``), each with ``register(subparsers)``; list a
new one in :data:`COMMAND_MODULES`. Logs go to stderr so stdout carries only a command's output.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from pathlib import Path

import structlog

from gateway import __version__
from gateway.cli import (
    cmd_backup,
    cmd_check,
    cmd_config,
    cmd_conformance,
    cmd_decode,
    cmd_events,
    cmd_export,
    cmd_plugins,
    cmd_rules,
    cmd_run,
    cmd_schema,
    cmd_send,
    cmd_users,
    cmd_verify,
)
from gateway.cli.common import CommandError, CommandModule
from gateway.journal import JournalError
from gateway.paths import default_data_dir

COMMAND_MODULES: tuple[CommandModule, ...] = (
    cmd_run,
    cmd_check,
    cmd_config,
    cmd_conformance,
    cmd_plugins,
    cmd_verify,
    cmd_events,
    cmd_decode,
    cmd_send,
    cmd_users,
    cmd_backup,
    cmd_export,
    cmd_schema,
    cmd_rules,
)
"""Every subcommand module, in the order ``anfang --help`` lists them."""

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anfang", description="Anfang: an integration gateway for physical-security systems."
    )
    parser.add_argument("--version", action="version", version=f"anfang {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"data directory holding journal.sqlite3 (default: {default_data_dir()})",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``anfang`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    _configure_logging()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.data_dir_given = args.data_dir is not None
    if args.data_dir is None:
        args.data_dir = default_data_dir()
    return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; expected failures become one ``anfang: error:`` line, not a traceback."""
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except JournalError as exc:
        return _fail(str(exc))
    except sqlite3.Error as exc:
        return _fail(f"cannot read the journal in {args.data_dir}: {exc}")
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_ERROR
    except OSError as exc:
        return _fail(_describe_os_error(exc))


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"anfang: error: {message}", file=sys.stderr)
    return code


def _describe_os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _silence_stdout() -> None:
    """The reader went away (``anfang events | head``); keep the exit flush from failing too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _configure_logging() -> None:
    """Send stdlib and structlog output to stderr; stdout belongs to the command's output."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
