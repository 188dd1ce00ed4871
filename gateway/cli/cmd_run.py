"""``anfang run [-c FILE]``: start the gateway (the demo site when no config is given).

SIGINT/SIGTERM stop it cleanly; SIGHUP re-reads the config and restarts only the plugin
instances whose settings changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import structlog

from gateway import event_loop, logs
from gateway.cli.common import add_command
from gateway.cli.configured import EXIT_INVALID, add_config_option, load_or_report
from gateway.config import ConfigError, load_config
from gateway.host import Gateway
from gateway.host.collector import settle_after_start
from gateway.host.reload import ReloadError
from gateway.journal import Filter

log = structlog.get_logger("anfang.run")


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "run",
        help="run the gateway (the demo site without -c)",
        description=__doc__ or "",
    )
    add_config_option(p)
    p.add_argument(
        "--show-events",
        action="store_true",
        help="print each journaled event as one line on stdout",
    )
    p.add_argument(
        "--accept-anchor-mismatch",
        action="store_true",
        help="start even though the journal's newest records no longer match its anchor file "
        "(the old anchor is kept aside and a journal.tamper alarm is recorded)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # SIGHUP's default action kills; one that comes before the config is read needs no reload
    # (the file is read now), one after it is handled from _serve on.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    found = load_or_report(args.config)
    if found is None:
        return EXIT_INVALID
    installed, loaded = found
    logs.configure(loaded.gateway.log.level, loaded.gateway.log.format)
    data_dir = args.data_dir if args.data_dir_given else None
    gateway = Gateway(
        loaded,
        installed,
        data_dir=data_dir,
        accept_anchor_mismatch=args.accept_anchor_mismatch,
        serve_api=True,
    )
    serving = _serve(gateway, args.show_events, args.config)
    return event_loop.run(serving, loaded.gateway.event_loop)


async def _serve(gateway: Gateway, show_events: bool, config_path: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()
    started = asyncio.Event()

    def on_hangup() -> None:
        # Handled while the gateway starts too (a config-management run, systemd's
        # ExecReload): such a reload waits until the start has finished.
        task = asyncio.create_task(_reload_once_started(gateway, config_path, started))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hangup)
    await gateway.start()
    # Everything built while starting lives as long as the process: frozen, it is no longer
    # walked by full collections, whose pause (67 ms measured at 1,000 events/s) was the tail
    # of the ACK and stream latencies; and full collections come ten times less often.
    settle_after_start()
    if gateway.new_admin_token is not None:
        _show_admin_token(gateway)
    started.set()
    printer = asyncio.create_task(_print_events(gateway)) if show_events else None
    await stop.wait()
    if printer is not None:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
    await gateway.stop()
    return 0


def _show_admin_token(gateway: Gateway) -> None:
    """The first admin token, once, on a terminal only: under systemd stdout is a log."""
    saved = gateway.data_dir / "admin.token"
    if sys.stdout.isatty():
        print(f"Admin API token (also in {saved}, mode 0600):\n  {gateway.new_admin_token}")
    else:
        print(f"An admin API token was created: {saved} (mode 0600)", flush=True)


async def _reload_once_started(
    gateway: Gateway, config_path: Path | None, started: asyncio.Event
) -> None:
    await started.wait()
    await _reload(gateway, config_path)


async def _reload(gateway: Gateway, config_path: Path | None) -> None:
    """SIGHUP: re-read the config; a bad one is reported and the running config stays."""
    try:
        new = load_config(config_path, gateway.installed.classes)
        await gateway.reload(new, actor="signal:SIGHUP")
    except ConfigError as exc:
        log.error("reload refused: the config has errors; still running the old one")
        print(exc.render(), file=sys.stderr, flush=True)
    except ReloadError as exc:
        log.error("reload refused; still running the old config", reason=str(exc))
    except Exception:
        log.exception("reload failed")


async def _print_events(gateway: Gateway) -> None:
    consumer = gateway.journal.subscribe(Filter(), after=gateway.start_seq)
    async for record in consumer:
        e = record.event
        local = e.occurred_at.astimezone().strftime("%H:%M:%S")
        text = f" — {e.text}" if e.text else ""
        print(
            f"{record.seq:>6} {local} P{e.priority} {e.kind:<18} {e.phase:<9} {e.source}{text}",
            flush=True,
        )
