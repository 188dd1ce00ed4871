"""``anfang rules test -c FILE --event EVENT.json [--at TIME]``: a dry run of the linkage rules.

Prints the rules the event would trigger with the commands they would send, and why each other
rule would not. Nothing is sent and nothing is journaled. Area arming and device status come from
the gateway's data directory when it has one (else they read as unknown). ``--at`` is the moment
to judge schedules at (ISO 8601; without an offset it is the site's local time); by default the
event's ``received_at``, or now.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from gateway.cli.common import CommandError, add_command
from gateway.cli.configured import EXIT_INVALID, add_config_option, load_or_report
from gateway.model.common import utcnow
from gateway.model.entities import ArmingState
from gateway.model.event import Event
from gateway.model.kinds import KindError
from gateway.paths import default_data_dir
from gateway.rules.dryrun import dry_run, render_verdicts
from gateway.rules.engine import register_kinds
from gateway.rules.facts import StaticFacts


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "rules", help="work with linkage rules (dry run)", description=__doc__ or ""
    )
    sub = p.add_subparsers(title="rules commands", metavar="ACTION")
    t = sub.add_parser("test", help="show which rules an event would trigger", description=__doc__)
    add_config_option(t)
    t.add_argument("--event", type=Path, required=True, help="the event as JSON (a file)")
    t.add_argument("--at", default=None, help="judge at this time (ISO 8601)")
    t.add_argument(
        "--arming",
        action="append",
        default=[],
        metavar="AREA=STATE",
        help="judge as if AREA were away, stay or disarmed (repeatable; otherwise the arming "
        "state the gateway last saved in its data directory)",
    )
    t.set_defaults(func=run_test)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def _read_event(path: Path, kinds: Any) -> Event:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not valid JSON: {exc}", code=EXIT_INVALID) from None
    if not isinstance(raw, dict):
        raise CommandError(f"{path}: the event must be a JSON object", code=EXIT_INVALID)
    if "priority" not in raw and isinstance(raw.get("kind"), str):
        with contextlib.suppress(KindError):  # as ctx.event() would: the kind's default
            raw["priority"] = kinds.get(raw["kind"]).priority
    try:
        return Event.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CommandError(f"{path}: {where}: {first['msg']}", code=EXIT_INVALID) from None


def _assume_arming(facts: StaticFacts, given: str) -> None:
    """``--arming lobby=away``: the dry run's area state, whatever the data directory says."""
    name, _, state = given.partition("=")
    area = facts.areas.get(name)
    if area is None:
        known = ", ".join(sorted(facts.areas)) or "none"
        raise CommandError(f"--arming {given!r}: no area {name!r} (areas: {known})", code=2)
    choices = [s.value for s in ArmingState if s is not ArmingState.UNKNOWN]
    if state not in choices:
        raise CommandError(
            f"--arming {given!r}: the state must be one of {', '.join(choices)}", code=2
        )
    facts.areas[name] = area.model_copy(update={"arming": ArmingState(state)})


def _moment(text: str | None, event: Event, zone: str) -> datetime:
    if text is None:
        return event.received_at if event.received_at else utcnow()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO 8601 time", code=2) from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(zone))


def run_test(args: argparse.Namespace) -> int:
    found = load_or_report(args.config)
    if found is None:
        return EXIT_INVALID
    installed, loaded = found
    g = loaded.gateway
    register_kinds(installed.kinds)
    event = _read_event(args.event, installed.kinds)
    data_dir = Path(args.data_dir or g.data_dir or default_data_dir()).expanduser()
    facts = StaticFacts.from_data_dir(g, data_dir)
    for given in args.arming:
        _assume_arming(facts, given)
    at = _moment(args.at, event, g.site.timezone)
    verdicts = dry_run(g.rules, event, at, facts, installed.kinds, g.site.timezone)
    local = at.astimezone(ZoneInfo(g.site.timezone))
    print(render_verdicts(verdicts, event, f"{local:%Y-%m-%d %H:%M:%S %a} {g.site.timezone}"))
    return 0
