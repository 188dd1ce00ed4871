"""``anfang run`` as a user meets it: a real process on the packaged demo config."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from gateway.journal import Filter, JournalReader
from tests.cli.helpers import anfang, anfang_cmd, fill
from tests.conftest import REPO, python_env, stop_gracefully
from tests.journal.helpers import raw_db


class Running:
    """An ``anfang run`` process whose output is drained by threads, so a test can wait for
    "gateway started" instead of guessing how long a loaded machine takes to get there."""

    def __init__(self, *args: str | Path) -> None:
        self.proc = subprocess.Popen(
            anfang_cmd("run", *args),
            cwd=REPO,
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.started = threading.Event()
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, stream: IO[str] | None, lines: list[str]) -> None:
        assert stream is not None
        for line in stream:
            lines.append(line)
            if "gateway started" in line:
                self.started.set()

    def wait_started(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.started.wait(0.1):
            assert self.proc.poll() is None, "".join(self.err)
            assert time.monotonic() < deadline, "the gateway did not start"

    def wait_for_line(self, text: str, timeout_s: float = 120.0) -> None:
        """Until a log line containing ``text`` has been written (stderr)."""
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in list(self.err)):
            assert self.proc.poll() is None, "".join(self.err)
            assert time.monotonic() < deadline, f"no {text!r} in the log"
            time.sleep(0.05)

    def finish(self, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        stop_gracefully(self.proc, timeout_s)
        for reader in self._readers:
            reader.join(timeout=10)
        out, err = "".join(self.out), "".join(self.err)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


def _run_briefly(*args: str | Path, seconds: float = 3.0) -> subprocess.CompletedProcess[str]:
    """Run until started (or exited), then ``seconds`` more, then SIGINT."""
    running = Running(*args)
    while not running.started.wait(0.1) and running.proc.poll() is None:
        pass
    deadline = time.monotonic() + seconds
    while running.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return running.finish()


async def test_run_refuses_a_truncated_journal_and_accepts_it_when_told(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await fill(data)
    db = raw_db(data)
    db.execute("DELETE FROM records WHERE seq > 15")
    db.close()

    refused = anfang("run", "--data-dir", data)
    assert refused.returncode == 1
    assert "newest 5 record(s) were removed" in refused.stderr
    assert "--accept-anchor-mismatch" in refused.stderr
    assert "Traceback" not in refused.stderr

    accepted = _run_briefly("--data-dir", data, "--accept-anchor-mismatch")  # as the message says
    assert accepted.returncode == 0, accepted.stderr
    reader = JournalReader.open(data)
    try:
        assert len(reader.query(Filter.build(kinds=["journal.tamper"]))) == 1
        assert reader.query(Filter.build(kinds=["test.periodic"]))  # the demo ran
    finally:
        reader.close()


def test_a_taken_api_port_is_one_clear_error_and_a_clean_stop(tmp_path: Path) -> None:
    """uvicorn used to log its own line and exit (status 3) with the journal left open."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "anfang.yaml"
        cfg.write_text(f"site: {{id: lab}}\napi: {{port: {port}}}\nplugins: []\n")
        result = anfang("--data-dir", tmp_path / "data", "run", "-c", cfg)
    assert result.returncode == 1
    assert f"anfang: error: the API cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Set api.port (or api.host) in anfang.yaml" in result.stderr
    assert "Traceback" not in result.stderr and "uvicorn" not in result.stderr
    reader = JournalReader.open(tmp_path / "data")
    try:
        kinds = [r.kind for r in reader.query(Filter.build(kinds=["gateway"]))]
    finally:
        reader.close()
    assert kinds == ["gateway.started", "gateway.stopped"]


def test_run_shows_demo_events(tmp_path: Path) -> None:
    result = _run_briefly("--data-dir", tmp_path / "data", "--show-events", seconds=4.0)
    assert result.returncode == 0, result.stderr
    assert "test.periodic" in result.stdout
    [started] = [line for line in result.stderr.splitlines() if "gateway started" in line]
    assert "uvloop" in started, "auto: uvloop when installed"  # logs on stderr, events on stdout


def test_sighup_reloads_only_changed_instances_and_survives_a_bad_config(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    template = (
        "site: {{id: hq}}\n"
        "api: {{port: 0}}\n"  # any free port: 8080 may be another gateway's
        "plugins:\n"
        "  - {{id: a, plugin: demo, config: {{interval_s: 1.0}}}}\n"
        "  - {{id: b, plugin: demo, config: {{interval_s: {b}}}}}\n"
    )
    cfg.write_text(template.format(b=1.0))
    running = Running("-c", cfg, "--data-dir", tmp_path / "data")
    proc = running.proc
    try:
        running.wait_started()
        cfg.write_text("site: {id: hq}\nplugins: [{id: a, plugin: nosuch}]\n")
        proc.send_signal(signal.SIGHUP)
        running.wait_for_line("reload refused")
        cfg.write_text(template.format(b=0.5))
        proc.send_signal(signal.SIGHUP)
        running.wait_for_line("config reloaded")
        assert proc.poll() is None, "the gateway must survive reloads"
    finally:
        result = running.finish()
    err = result.stderr
    assert proc.returncode == 0, err
    assert "reload refused" in err and "plugins[0].plugin" in err
    reader = JournalReader.open(tmp_path / "data")
    try:
        (audit,) = reader.query(Filter.build(types=["audit"], kinds=["config.reload"]))
    finally:
        reader.close()
    detail = audit.model.detail  # type: ignore[union-attr]
    assert detail["restart"] == ["b"] and detail["unchanged"] == ["a"]


def test_the_first_admin_token_is_saved_privately_and_never_logged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = _run_briefly("--data-dir", data, seconds=3.0)
    assert result.returncode == 0, result.stderr
    token_file = data / "admin.token"
    token = token_file.read_text().strip()
    assert token.startswith("anf_")
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert token not in result.stdout and token not in result.stderr, "not on a non-terminal"
    assert "admin.token" in result.stdout
    again = _run_briefly("--data-dir", data, seconds=2.0)
    assert "admin API token was created" not in again.stdout, "only on the first start"
