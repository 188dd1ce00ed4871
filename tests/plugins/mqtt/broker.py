"""A real mosquitto on a free port on 127.0.0.1, configured per test (plain, password, TLS)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """One mosquitto; ``stop()`` and ``start()`` again on the same port (a broker outage)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    persist: bool = False
    """Keep sessions and queued messages across a restart (a platform's persistent session)."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def start(self) -> Broker:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            ("" if self.persist else "persistence false\n")
            # as root, mosquitto would switch to its own user and lose our tmp files
            + ("user root\n" if os.geteuid() == 0 else "")
            + f"listener {self.port} 127.0.0.1\nlog_dest none\n"
            f"{self.extra or 'allow_anonymous true'}\n"
        )
        if self.persist:  # stopping with SIGTERM saves sessions and queues; start reloads them
            with self.conf.open("a") as fh:
                fh.write(
                    f"persistence true\npersistence_location {self.workdir}/\n"
                    "max_queued_messages 0\n"
                )
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {self.conf}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
