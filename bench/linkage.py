"""Linkage latency through the whole path: ``publish()`` → journal → the rules engine's cursor →
dispatch → the plugin's ``execute()``.

A real gateway (SQLite journal, the rules engine, the incident tracker, the command dispatcher)
with a sink plugin that publishes the alarms and executes the commands. 1,000 rules are loaded;
100 of them match the alarms' kind, each with a data predicate (exactly one passes for a given
alarm) and a weekly schedule; the other 900 concern other kinds. Alarms are offered at a fixed
rate from many concurrent publishers, as panels would; each alarm's latency is the time from its
``publish()`` call to the ``execute()`` of the command its rule sends. The same run is repeated
with a single rule: the difference is the engine's cost of carrying 999 more rules.

Last line: one JSON object with ``p99_ms``, ``p99_ms_one_rule`` and ``events_per_s``, and the
event loop's CPU per alarm (``loop_cpu_us_per_alarm``), which varies far less with the host.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
from pydantic import BaseModel, ConfigDict

from bench._common import add_event_loop_option, emit, percentile
from gateway import event_loop, logs
from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.host.collector import settle_after_start
from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.kinds import Phase
from gateway.sdk import Plugin
from gateway.sdk.discovery import discover

SITE = "bench"
MATCHING = 100
OTHER_KINDS = [
    "fire",
    "trouble",
    "access.denied",
    "door.forced",
    "video.motion",
    "power.on_battery",
    "tamper",
    "gas",
    "water",
]
SCHEDULE = {"windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}]}

published_at: dict[str, float] = {}
latencies: list[float] = []
executed = 0


class SinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SinkPlugin(Plugin[SinkConfig]):
    """Publishes the bench's alarms and executes the sirens' commands (time stamps only)."""

    name = "bench_sink"
    version = "0"
    description = "linkage bench: alarm source and command sink"
    protocols = ("bench",)
    Config = SinkConfig
    device_kinds = ("panel", "siren")
    actions = ("output.pulse",)

    async def start(self) -> None:
        self.ctx.registry.upsert_device(
            f"{SITE}/panel-1", kind="panel", plugin=self.ctx.instance_id
        )
        self.ctx.registry.upsert_device(
            f"{SITE}/siren-1", kind="siren", plugin=self.ctx.instance_id
        )

    async def execute(self, command: Command) -> CommandResult:
        global executed
        started = published_at.pop(str(command.params.get("event")), None)
        if started is not None:
            latencies.append(time.perf_counter() - started)
        executed += 1
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.OK,
        )


async def until(check: Callable[[], bool], timeout_s: float) -> None:
    for _ in range(int(timeout_s * 100)):
        if check():
            return
        await asyncio.sleep(0.01)


def rules(total: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    then = [
        {
            "command": {
                "target": f"{SITE}/siren-1",
                "action": "output.pulse",
                "params": {"event": "{id}"},
            }
        }
    ]
    step = max(1, total // MATCHING)
    for i in range(total):
        matching = total == 1 or i % step == 0
        kind = "intrusion" if matching else OTHER_KINDS[i % len(OTHER_KINDS)]
        where = "data.level >= 0" if total == 1 else f"data.slot == {(i // step) % MATCHING}"
        out.append(
            {
                "name": f"r{i}",
                "when": {"kind": kind, "phase": "alarm", "where": where},
                "if": [{"schedule": SCHEDULE}],
                "mode": "parallel",
                "max_runs": 1000,
                "then": then,
            }
        )
    return out


async def measure(
    n_rules: int, rate: float, seconds: float, warmup_s: float, writer: str = "process"
) -> dict[str, Any]:
    global executed
    published_at.clear()
    latencies.clear()
    executed = 0
    with tempfile.TemporaryDirectory(prefix="anfang-linkage-") as tmp:
        cfg = Path(tmp) / "anfang.yaml"
        config = {
            "site": {"id": SITE, "timezone": "Asia/Shanghai"},
            "log": {"level": "warning"},
            "journal": {"writer": writer},
            "plugins": [{"id": "sink", "plugin": "bench_sink"}],
            "rules": rules(n_rules),
        }
        cfg.write_text(yaml.safe_dump(config))
        installed = discover(extra=[SinkPlugin])
        gw = Gateway(load_config(cfg, installed.classes), installed, data_dir=Path(tmp) / "data")
        await gw.start()
        thresholds = gc.get_threshold()
        try:
            runner = gw.runners["sink"]
            await until(lambda: runner.status.state is InstanceState.RUNNING, 10)
            ctx = runner.context
            assert ctx is not None
            gc.collect()
            settle_after_start()  # as `anfang run` does after start
            total = int(rate * (seconds + warmup_s))
            warm = int(rate * warmup_s)
            pending: set[asyncio.Task[int]] = set()
            begin = time.perf_counter()
            measured_from = begin
            executed_at_warm = 0
            cpu_from = time.thread_time()
            for i in range(total):
                due = begin + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if i == warm:
                    latencies.clear()
                    measured_from = time.perf_counter()
                    executed_at_warm = executed
                    cpu_from = time.thread_time()
                event = ctx.event(
                    "intrusion",
                    f"{SITE}/panel-1",
                    Phase.ALARM,
                    zone=str(i % 64),
                    data={"slot": i % MATCHING, "level": 1, "n": i},
                )
                published_at[event.id] = time.perf_counter()
                task = asyncio.create_task(ctx.publish(event))
                pending.add(task)
                task.add_done_callback(pending.discard)
            offered_s = time.perf_counter() - measured_from
            await until(lambda: executed >= total, 30)
            done_s = time.perf_counter() - measured_from
            handled = executed - executed_at_warm
            loop_cpu_s = time.thread_time() - cpu_from
        finally:
            gc.unfreeze()
            gc.set_threshold(*thresholds)
            await gw.stop()
    lat_ms = [x * 1000 for x in latencies]
    return {
        "p50_ms": round(percentile(lat_ms, 50), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "max_ms": round(max(lat_ms), 2) if lat_ms else None,
        "offered_per_s": round((total - warm) / offered_s, 1),
        "handled_per_s": round(handled / done_s, 1),
        # The event loop's own CPU per alarm (publisher included, the writer process not): the
        # figure that decides latency here, and one the host's speed moves far less than p99.
        "loop_cpu_us_per_alarm": round(loop_cpu_s / handled * 1e6) if handled else None,
        "missing": total - executed,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    logs.configure("warning")  # as a production gateway runs: a log line per command costs
    seconds = 8.0 if args.quick else args.seconds
    warmup = 1.0 if args.quick else 2.0
    many = await measure(args.rules, args.rate, seconds, warmup, args.writer)
    print(f"{args.rules} rules: {many}", flush=True)
    one = await measure(1, args.rate, seconds, warmup, args.writer)
    print(f"1 rule: {one}", flush=True)
    return {
        "p50_ms": many["p50_ms"],
        "p99_ms": many["p99_ms"],
        "p50_ms_one_rule": one["p50_ms"],
        "p99_ms_one_rule": one["p99_ms"],
        "p99_ratio_vs_one_rule": round(many["p99_ms"] / one["p99_ms"], 2),
        "events_per_s": many["handled_per_s"],
        "loop_cpu_us_per_alarm": many["loop_cpu_us_per_alarm"],
        "loop_cpu_us_per_alarm_one_rule": one["loop_cpu_us_per_alarm"],
        "events_per_s_one_rule": one["handled_per_s"],
        "offered_per_s": many["offered_per_s"],
        "missing": many["missing"] + one["missing"],
        "rules": args.rules,
        "target_p99_ms": 10,
        "writer": args.writer,
        "event_loop": event_loop.running_loop_name(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="8 s per run (whole script < 60 s)")
    p.add_argument("--seconds", type=float, default=30.0, help="measured seconds per run")
    p.add_argument("--rate", type=float, default=1000.0, help="alarms offered per second")
    p.add_argument(
        "--writer",
        choices=("process", "thread"),
        default="process",
        help="where the journal writer runs (the gateway's default: process)",
    )
    p.add_argument("--rules", type=int, default=1000, help="rules loaded (10 %% match)")
    add_event_loop_option(p)
    args = p.parse_args()
    emit(event_loop.run(main_async(args), args.event_loop))


if __name__ == "__main__":
    main()
