"""Durability under SIGKILL: a real child process, killed at seeded random moments."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gateway.journal import JournalReader, verify_journal
from tests.conftest import PYTHON, REPO, python_env

KILLS = 50


@pytest.mark.slow
def test_every_acknowledged_record_survives_sigkill(data_dir: Path) -> None:
    rng = random.Random(20261121)
    acked: list[tuple[int, str]] = []
    for run in range(KILLS):
        child = subprocess.Popen(
            [PYTHON, "-m", "tests.journal.crash_child", str(data_dir), str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=python_env(),
            cwd=REPO,
        )
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready == b"ready\n", (ready, child.stderr.read() if child.stderr else b"")
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ack":  # a torn last line was never acked
                acked.append((int(parts[1]), parts[2]))

    assert len(acked) > KILLS * 10, "the child acknowledged too little to prove anything"
    reader = JournalReader.open(data_dir)
    try:
        rows = reader.conn.execute("SELECT seq, id FROM records ORDER BY seq").fetchall()
    finally:
        reader.close()
    by_id: dict[str, list[int]] = {}
    for seq, rid in rows:
        by_id.setdefault(rid, []).append(seq)
    for seq, rid in acked:
        assert by_id.get(rid) == [seq], f"acked record {rid} at seq {seq}: found {by_id.get(rid)}"
    assert [s for s, _ in rows] == list(range(1, len(rows) + 1))
    # acknowledged order agrees with journal order within each publisher
    acked_seqs = sorted(s for s, _ in acked)
    assert len(set(acked_seqs)) == len(acked_seqs)
    report = verify_journal(data_dir)
    assert report.ok, report.problems
