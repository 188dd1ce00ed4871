"""Kill the gateway (SIGKILL) in the middle of a backlog, start it again: every event arrives,
in journal order, repeats only of events that were in flight (same id)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

from gateway.journal import Journal
from tests.cli.helpers import anfang_cmd
from tests.conftest import REPO, python_env
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import Platform, check_complete_and_ordered, intrusion

BACKLOG = 4000


def start(cfg: Path, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        anfang_cmd("run", "-c", cfg, "--data-dir", data),
        cwd=REPO,
        env=python_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_sigkill_mid_backlog_then_restart_loses_nothing(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", persist=True).start()
    data = tmp_path / "data"
    async with await Journal.open(data) as journal:  # the backlog, written while no one read
        sent = [intrusion(i) for i in range(BACKLOG)]
        await journal.append_many(list(sent))
    cfg = tmp_path / "anfang.yaml"
    mqtt = {"port": broker.port, "reconnect_min_s": 0.05, "reconnect_max_s": 0.5, "history": True}
    cfg.write_text(
        "site: {id: hq}\napi: {enabled: false}\nplugins:\n"
        f"  - {json.dumps({'id': 'mqtt', 'plugin': 'mqtt', 'config': mqtt})}\n"
    )
    ids = [e.id for e in sent]
    first = second = None
    try:
        async with Platform(broker.port, ("anfang/events/#",), persistent=True) as platform:
            first = start(cfg, data)
            await platform.wait_for(lambda ms: len(ms) >= 1000, timeout=120)
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 30)
            got_before = len(platform.ids)
            assert got_before < BACKLOG, "the kill should land mid-backlog"

            second = start(cfg, data)
            await platform.wait_for(lambda _: set(ids) <= platform.ids, timeout=180)
            repeats = check_complete_and_ordered(platform.events(), ids)
            assert repeats < got_before, "the restart resumed at the durable cursor, not at 0"
            second.send_signal(signal.SIGINT)
            await asyncio.to_thread(second.wait, 60)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        broker.stop()
