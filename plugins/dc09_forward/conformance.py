"""How the conformance kit runs the forwarder: against a second Anfang as the receiver.

The example config names a port picked when this module loads; the exercise starts
``anfang run`` with the ``sia_dc09`` receiver listening there (the first time; it stays up for
the kit's later checks — the connection drop, the restart — and is stopped when the process
exits), journals one event in the forwarder's gateway and waits for the receiver's ACK.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from gateway.model.kinds import Phase
from gateway.sdk import ConformanceSpec, Plugin

ACCOUNT = "C0DE"
_receivers: dict[int, subprocess.Popen[bytes]] = {}
_homes: list[Path] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_receivers() -> None:
    for proc in _receivers.values():
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _receivers.clear()
    for home in _homes:
        shutil.rmtree(home, ignore_errors=True)
    _homes.clear()


def start_receiver(port: int, account: str = ACCOUNT) -> subprocess.Popen[bytes]:
    """``anfang run`` with an sia_dc09 receiver on 127.0.0.1:port (kept until exit)."""
    running = _receivers.get(port)
    if running is not None and running.poll() is None:
        return running
    home = Path(tempfile.mkdtemp(prefix="anfang-kit-dc09-rx-"))
    _homes.append(home)
    config = home / "anfang.yaml"
    config.write_text(
        "site: {id: arc}\nlog: {level: warning}\napi: {enabled: false}\nplugins:\n"
        f"  - {{id: rx, plugin: sia_dc09, config: {{tcp_port: {port}, "
        f'accounts: [{{account: "{account}"}}]}}}}\n'
    )
    root = Path(__file__).resolve().parent.parent.parent
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    argv = [sys.executable, "-m", "gateway.cli", "--data-dir", str(home / "data")]
    proc = subprocess.Popen(
        [*argv, "run", "-c", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not _receivers:
        atexit.register(_stop_receivers)
    _receivers[port] = proc
    return proc


async def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"the receiver exited with {proc.returncode}") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def exercise(plugin: Plugin[Any]) -> None:
    from plugins.dc09_forward.plugin import Dc09ForwardPlugin

    if not isinstance(plugin, Dc09ForwardPlugin):
        raise TypeError("the exercise needs a running DC-09 forwarder")
    receiver = plugin.config.receivers[0]
    port = receiver.primary.port
    await wait_listening(port, start_receiver(port, receiver.account))
    forwarder = plugin.forwarders[receiver.name]
    before = forwarder.stats["acked"]
    event = plugin.ctx.event(
        "test.manual",
        plugin.address,
        Phase.MOMENTARY,
        text="conformance kit: one event to forward",
        plugin="conformance-kit",  # the forwarder never sends its own instance's events
    )
    await plugin.ctx.publish(event)
    async with asyncio.timeout(20):
        while forwarder.stats["acked"] <= before:  # noqa: ASYNC110 - counted by another task
            await asyncio.sleep(0.02)


CONFORMANCE = ConformanceSpec(
    example_config={
        "receivers": [
            {
                "name": "arc",
                "account": ACCOUNT,
                "primary": {"host": "127.0.0.1", "port": free_port()},
            }
        ],
        "answer_timeout_s": 2.0,
        "link_test_s": 0.5,
        "probe_s": 0.5,
    },
    exercise=exercise,
    run_s=1.0,
)
