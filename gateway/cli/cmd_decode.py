"""``anfang decode CODEC``: frames on stdin, one JSON line per frame on stdout.

The same sans-IO codec a receiver runs, with nothing else in the way: no journal, no timestamp
window, so a captured frame can be checked by hand. Without a config there are no keys either;
with ``-c`` the frame is decoded as the configured instance of the codec's plugin would decode
it (keys, vendor variants, accounts' sites), when the codec offers that. A bad frame prints
``{"error": ...}`` and the next line is read; only a wrong command line fails the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli.common import Subparsers, UsageError, add_command
from gateway.config import ConfigError, LoadedConfig, load_config
from gateway.sdk.codec import DEFAULT_SITE, CodecSpec, DecodeContext, Decoder
from gateway.sdk.discovery import InstalledPlugins, discover

EXIT_INVALID = 2
EXIT_CODEC_BUG = 1


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "decode",
        help="decode protocol frames from stdin into fields and canonical events",
        description=(
            "Decode frames read from stdin, one per line (blank lines skipped), and print one "
            'JSON line per frame: {"message": ..., "events": [...]} or {"error": ...}. '
            "Bad frames do not stop the run. Sources use the default addressing rule with site "
            f"'{DEFAULT_SITE}', or the site of the -c config."
        ),
    )
    parser.add_argument("codec", nargs="?", metavar="CODEC", help="codec name (see --list)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "--hex", action="store_true", help="each line is the frame's bytes as hex digits"
    )
    form.add_argument(
        "--json",
        action="store_true",
        help="each line is a JSON string holding the frame (UTF-8), for frames with line breaks",
    )
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="config file: its site id is used in event sources, and an instance of the "
        "codec's plugin in it decodes as that instance would (keys, variants, account sites)",
    )
    parser.add_argument(
        "--instance",
        metavar="ID",
        default=None,
        help="with -c: which instance decodes, when several in the config could",
    )
    parser.add_argument("--list", action="store_true", help="list the installed codecs and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    installed = discover()
    for error in installed.errors:
        print(f"warning: {error}", file=sys.stderr)
    if args.list:
        if args.codec is not None:
            raise UsageError("--list takes no codec name")
        _print_list(installed)
        return 0
    spec = _codec(installed, args.codec)
    site = DEFAULT_SITE
    decode = spec.decode
    if args.config is None and args.instance is not None:
        raise UsageError("--instance names an instance of the -c config; give -c too")
    if args.config is not None:
        try:
            loaded = load_config(args.config, installed.classes)
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            return EXIT_INVALID
        site = loaded.gateway.site.id
        decode = _configured_decoder(spec, installed, loaded, args.instance) or decode
    form = "hex" if args.hex else "json" if args.json else "text"
    bugs = 0
    for line in _lines(sys.stdin.buffer):
        result, bug = _decode_line(spec, line, form, site, decode)
        bugs += bug
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return EXIT_CODEC_BUG if bugs else 0


def _codec(installed: InstalledPlugins, name: str | None) -> CodecSpec:
    known = ", ".join(sorted(installed.codecs)) or "none installed"
    if name is None:
        raise UsageError(f"name a codec (known codecs: {known}) or use --list")
    spec = installed.codecs.get(name)
    if spec is None:
        raise UsageError(f"unknown codec {name!r}; known codecs: {known}")
    return spec


def _configured_decoder(
    spec: CodecSpec, installed: InstalledPlugins, loaded: LoadedConfig, instance: str | None
) -> Decoder | None:
    """The decoder of the config's instance whose plugin offers ``spec`` (``--instance`` when
    there are several); None when the codec has no configured form or no instance uses it."""
    if spec.configured is None:
        if instance is not None:
            raise UsageError(f"--instance: codec {spec.name} decodes the same for every instance")
        return None
    candidates = [
        entry.id
        for entry in loaded.gateway.plugins
        if entry.enabled
        and entry.id in loaded.plugin_configs
        and entry.plugin in installed.classes
        and spec in installed.classes[entry.plugin].codecs
    ]
    if instance is not None:
        if instance not in candidates:
            raise UsageError(
                f"--instance {instance}: no enabled instance with codec {spec.name} in the config"
                + (f" (those that have one: {', '.join(candidates)})" if candidates else "")
            )
        chosen = instance
    elif len(candidates) > 1:
        raise UsageError(
            f"several instances could decode {spec.name} ({', '.join(candidates)}): "
            "choose one with --instance"
        )
    elif candidates:
        chosen = candidates[0]
    else:
        return None
    try:
        return spec.configured(loaded.plugin_configs[chosen], loaded.gateway.site.id)
    except TypeError as exc:  # another plugin offers the same codec with its own config
        raise UsageError(f"instance {chosen} cannot decode {spec.name}: {exc}") from None


def _print_list(installed: InstalledPlugins) -> None:
    if not installed.codecs:
        print("no codecs installed")
        return
    width = max(len(name) for name in installed.codecs)
    for name, spec in sorted(installed.codecs.items()):
        origin = installed.codec_origins.get(name, "?")
        print(f"{name:<{width}}  {spec.description}  [{origin}]")


def _lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    """Each line without its trailing newline (only that), blank lines skipped."""
    for line in stream:
        frame = line[:-1] if line.endswith(b"\n") else line
        if frame.strip():
            yield frame


def _frame(line: bytes, form: str) -> bytes:
    """The frame a line stands for; ValueError says why a --hex or --json line is not one."""
    if form == "hex":
        try:
            return bytes.fromhex(line.decode("ascii"))
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise ValueError(f"line is not hex digits (--hex): {exc}") from None
    if form == "json":
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line is not JSON (--json): {exc}") from None
        if not isinstance(value, str):
            raise ValueError(f"line is JSON {type(value).__name__}, not a string (--json)")
        return value.encode("utf-8")
    return line


def _decode_line(
    spec: CodecSpec, line: bytes, form: str, site: str, decode: Decoder | None = None
) -> tuple[dict[str, Any], int]:
    """The JSON object for one line, and 1 if the codec broke its contract (raised another type).
    ``decode`` is the codec's configured form, when one is used."""
    try:
        frame = _frame(line, form)
    except ValueError as exc:
        return {"error": str(exc)}, 0
    try:
        decoded = (decode or spec.decode)(frame, DecodeContext(site=site, now=datetime.now(UTC)))
    except spec.error as exc:
        return {"error": str(exc)}, 0
    except Exception as exc:  # a codec bug: report it on this line and keep reading
        print(
            f"anfang: warning: codec {spec.name} raised {type(exc).__name__}, not "
            f"{spec.error.__name__}: {exc}",
            file=sys.stderr,
        )
        return {"error": f"codec bug: {type(exc).__name__}: {exc}"}, 1
    return decoded.to_json(), 0
