"""``anfang events``: the journal's records as JSON lines, filtered, optionally followed live.

Reads a read-only connection in pages by seq so large journals stream. ``--follow`` polls that
connection: the gateway writing the journal is another process, and WAL lets a reader see each
commit as soon as it lands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from gateway.cli.common import (
    Subparsers,
    add_command,
    add_filter_arguments,
    add_time_arguments,
    filter_from_args,
    time_range,
    to_us,
)
from gateway.journal import Filter, JournalReader, JournalRecord, RecordValidationError

PAGE_SIZE = 1000
POLL_SECONDS = 0.2


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "events",
        help="print journal records as JSON lines",
        description=(
            "Print journal records as JSON lines, oldest first: the record's model plus 'seq' "
            "and 'rtype'. Times filter on the gateway's time (an event's received_at)."
        ),
    )
    add_time_arguments(parser)
    add_filter_arguments(parser)
    parser.add_argument("--limit", type=_positive, metavar="N", help="stop after N records")
    parser.add_argument(
        "--follow", action="store_true", help="keep printing new records until interrupted"
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: use a positive integer")
    return value


@dataclass
class Query:
    """One ``anfang events`` invocation's filter, time range and progress."""

    flt: Filter
    since_us: int | None
    until_us: int | None
    remaining: int | None
    after_seq: int = 0
    invalid: int = 0

    @property
    def done(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def run(args: argparse.Namespace) -> int:
    since, until = time_range(args)
    query = Query(filter_from_args(args), to_us(since), to_us(until), args.limit)
    with closing(JournalReader.open(args.data_dir)) as reader:
        _print_up_to_head(reader, query)
        while args.follow and not query.done:
            time.sleep(POLL_SECONDS)
            _print_up_to_head(reader, query)
    return 1 if query.invalid else 0


def _print_up_to_head(reader: JournalReader, query: Query) -> None:
    """Print matching records up to the current head, a page at a time, then move past it.

    Moving ``after_seq`` to the head, not to the last match, keeps each poll from rescanning
    records the filter already rejected.
    """
    head = reader.head().seq
    while not query.done and query.after_seq < head:
        limit = PAGE_SIZE if query.remaining is None else min(PAGE_SIZE, query.remaining)
        page = reader.query(
            query.flt,
            after_seq=query.after_seq,
            upto_seq=head,
            since_us=query.since_us,
            until_us=query.until_us,
            limit=limit,
        )
        for record in page:
            _print_record(record, query)
        sys.stdout.flush()
        if len(page) < limit:
            query.after_seq = head
        else:
            query.after_seq = page[-1].seq


def _print_record(record: JournalRecord, query: Query) -> None:
    try:
        line = record_json(record)
    except RecordValidationError as exc:
        query.invalid += 1
        print(f"anfang: warning: {exc}; skipped", file=sys.stderr)
        return
    print(json.dumps(line, ensure_ascii=False))
    if query.remaining is not None:
        query.remaining -= 1


def record_json(record: JournalRecord) -> dict[str, Any]:
    """The JSON object for one record: its model plus ``seq`` and ``rtype``."""
    model = record.model
    if model is None:
        return {
            "seq": record.seq,
            "rtype": record.rtype.value,
            "id": record.id,
            "kind": record.kind,
            "pruned": True,
        }
    line: dict[str, Any] = model.model_dump(mode="json")
    line["seq"] = record.seq
    line["rtype"] = record.rtype.value
    return line
