"""ACK only after the commit, proven with a real gateway process killed between the two.

The test holds SQLite's write lock on the journal (as a stuck disk would), so the running
``anfang run`` has received the frame but cannot commit it; it must not ACK. The process is then
SIGKILLed, restarted, and the panel retransmits: the journal ends with exactly one copy.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from gateway.journal import Filter, JournalReader
from plugins.sia_dc09.dc09 import build_frame
from tests.cli.helpers import anfang_cmd
from tests.conftest import REPO, python_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cfg: Path, data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        anfang_cmd("run", "-c", cfg, "--data-dir", data),
        cwd=REPO,
        env=python_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("the receiver did not start listening")


def send(port: int, frame: bytes, wait_s: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as conn:
        conn.sendall(frame)
        try:
            return conn.recv(4096)
        except TimeoutError:
            return b""


def test_no_ack_without_commit_and_exactly_one_copy_after_a_crash(tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\napi: {enabled: false}\nplugins:\n"
        f"  - {{id: rx, plugin: sia_dc09, config: {{tcp_port: {port}, "
        'accounts: [{account: "1234"}]}}\n'
    )
    data = tmp_path / "data"
    frame = build_frame("SIA-DCS", 42, "1234", "#1234|Nri1/BA007", timestamp=datetime.now(UTC))

    first = start(cfg, data, port)
    blocker = sqlite3.connect(data / "journal.sqlite3", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # the journal can no longer commit
        assert send(port, frame, wait_s=1.5) == b"", "ACK sent before the event was durable"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        if first.poll() is None:
            first.kill()

    second = start(cfg, data, port)
    try:
        answer = send(port, frame, wait_s=10)  # the panel retransmits the unanswered frame
        assert b'"ACK"0042' in answer
        assert b'"ACK"0042' in send(port, frame, wait_s=10), "a second repeat: ACK, no copy"
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)

    reader = JournalReader.open(data)
    try:
        copies = [
            r.event
            for r in reader.query(Filter.build(kinds=["intrusion"]))
            if r.event.data.get("dc09", {}).get("seq") == "0042"
        ]
    finally:
        reader.close()
    assert len(copies) == 1
