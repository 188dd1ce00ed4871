"""``anfang send PROTOCOL [options]``: send one real message to a receiver and check the answer.

Installers use it to prove a receiver path end to end (this gateway's receiver, or a central
station's). The protocols come from installed plugins (``anfang send --list``); each has its own
options (``anfang send sia-dc09 --help``). Prints one JSON object; exit 0 when the answer
verified, 1 when it did not (or none came), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from gateway.cli.common import CommandError, add_command
from gateway.sdk.discovery import discover


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "send", help="send a test message to a receiver", description=__doc__ or ""
    )
    p.add_argument("protocol", nargs="?", help="protocol name (see --list)")
    p.add_argument("--list", action="store_true", help="name the protocols that can be sent")
    p.add_argument("options", nargs=argparse.REMAINDER, help="the protocol's own options")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    senders = discover().senders
    if args.list or args.protocol is None:
        for name, spec in sorted(senders.items()):
            print(f"{name:<16} {spec.description}")
        return 0 if args.list else 2
    chosen = senders.get(args.protocol)
    if chosen is None:
        known = ", ".join(sorted(senders)) or "none"
        raise CommandError(f"no sender for {args.protocol!r} (known: {known})", code=2)
    spec = chosen
    parser = argparse.ArgumentParser(prog=f"anfang send {spec.name}", description=spec.description)
    spec.arguments(parser)
    options = parser.parse_args(args.options)
    try:
        result = asyncio.run(spec.send(options))
    except ValueError as exc:
        raise CommandError(str(exc), code=2) from None
    except OSError as exc:
        raise CommandError(f"cannot reach the receiver: {exc}") from None
    print(json.dumps(result, indent=2))
    return 0 if result.get("verified") else 1
