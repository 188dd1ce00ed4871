"""Prometheus metrics: what operators graph and alert on, in the text exposition format.

Counters are kept since the gateway started (an instance's counters survive its restarts).
Written by hand rather than through a client library: a handful of families, no dependency.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from gateway import __version__
from gateway.api.security import require
from gateway.auth import Principal, Role
from gateway.event_loop import running_loop_name
from gateway.host.commands import LATENCY_BUCKETS_S

router = APIRouter()


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    """Label values escape backslash, newline and double quote (the text format's rules)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, /, **labels: str) -> None:
        """``name`` and ``value`` are positional-only: a label may be called ``name`` too
        (the plugins' counters are labelled by their name)."""
        self.lines.append(f"{name}{_labels(**labels)} {value:g}")

    def samples(self, name: str, rows: Iterable[tuple[dict[str, str], int | float]]) -> None:
        for labels, value in rows:
            self.sample(name, value, **labels)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@router.get("/api/v1/metrics", response_class=PlainTextResponse)
async def metrics(
    request: Request, _: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> PlainTextResponse:
    gw = request.app.state.gateway
    out = Exposition()
    out.family("anfang_build_info", "gauge", "the gateway's version, Python and event loop")
    out.sample(
        "anfang_build_info",
        1,
        version=__version__,
        python=platform.python_version(),
        event_loop=running_loop_name(),
    )
    up, restarts, published, counted = [], [], [], []
    for instance, runner in sorted(gw.runners.items()):
        up.append(({"instance": instance}, 1 if runner.status.state.value == "running" else 0))
        restarts.append(({"instance": instance}, runner.status.restarts))
        counters, kinds = runner.counters()
        published += [({"instance": instance, "kind": k}, n) for k, n in sorted(kinds.items())]
        counted += [({"instance": instance, "name": k}, n) for k, n in sorted(counters.items())]
    for name, kind, help_text, rows in (
        ("anfang_instance_up", "gauge", "1 when the plugin instance is running", up),
        ("anfang_instance_restarts_total", "counter", "restarts after a failure", restarts),
        ("anfang_events_published_total", "counter", "events journaled by kind", published),
        ("anfang_plugin_counter_total", "counter", "plugins' own counters (NAK reasons…)", counted),
    ):
        out.family(name, kind, help_text)
        out.samples(name, rows)

    stats = gw.journal.stats
    out.family("anfang_journal_records_total", "counter", "records committed to the journal")
    out.sample("anfang_journal_records_total", stats.records)
    out.family("anfang_journal_transactions_total", "counter", "journal transactions (fsyncs)")
    out.sample("anfang_journal_transactions_total", stats.transactions)
    out.family("anfang_journal_failed_transactions_total", "counter", "failed journal writes")
    out.sample("anfang_journal_failed_transactions_total", stats.failed_transactions)
    out.family("anfang_journal_commit_seconds", "summary", "recent journal commit latency")
    for q in (0.5, 0.99):
        out.sample("anfang_journal_commit_seconds", _percentile(stats.commit_seconds, q),
                   quantile=f"{q:g}")  # fmt: skip
    out.family("anfang_cursor_lag_records", "gauge", "records a durable cursor has not handled")
    head = gw.journal.committed_seq
    for name, seq in sorted(gw.journal.reader.cursors().items()):
        out.sample("anfang_cursor_lag_records", max(0, head - seq), cursor=name)

    commands = gw.commands
    out.family("anfang_commands_total", "counter", "command results by status")
    for status, n in sorted(commands.counters.items()):
        out.sample("anfang_commands_total", n, status=status)
    out.family("anfang_command_duration_seconds", "histogram", "time to carry out a command")
    cumulative = 0
    for bound, count in zip(LATENCY_BUCKETS_S, commands.latency_buckets, strict=False):
        cumulative += count
        out.sample("anfang_command_duration_seconds_bucket", cumulative, le=f"{bound:g}")
    cumulative += commands.latency_buckets[-1]
    out.sample("anfang_command_duration_seconds_bucket", cumulative, le="+Inf")
    out.sample("anfang_command_duration_seconds_sum", commands.latency_sum_s)
    out.sample("anfang_command_duration_seconds_count", cumulative)

    out.family("anfang_api_requests_refused_total", "counter", "API requests refused, by reason")
    for reason, n in sorted(request.app.state.counters.items()):
        out.sample("anfang_api_requests_refused_total", n, reason=reason)
    return PlainTextResponse(out.text(), media_type="text/plain; version=0.0.4")
