"""What a plugin instance holds on to: tasks, threads, sockets and other descriptors.

Snapshots taken before an instance starts and after it stops must match; whatever is new after
the stop was leaked by the plugin (the host cancels spawned tasks and closes consumers itself).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Snapshot:
    tasks: frozenset[asyncio.Task[object]]
    threads: frozenset[threading.Thread]
    fds: dict[int, str]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(
            frozenset(asyncio.all_tasks()),
            frozenset(t for t in threading.enumerate() if not _pool_thread(t)),
            open_fds(),
        )


async def settle_the_loop() -> None:
    """Let the event loop make what it keeps for its whole life before the first snapshot.

    uvloop (libuv) opens /dev/null with the first socket it wraps and keeps it as long as the
    loop: a spare descriptor it gives up to shed connections when the process runs out. The
    first plugin to open a socket would otherwise be blamed for it."""
    ours, theirs = socket.socketpair()
    try:
        _, writer = await asyncio.open_unix_connection(sock=ours)
        writer.close()
        await writer.wait_closed()
    finally:
        theirs.close()


DEFAULT_EXECUTOR_THREADS = ("asyncio_", "uvloop_", "ThreadPoolExecutor")
"""Names of the loop's default executor's workers (asyncio's, uvloop's, a plain pool's)."""


def _pool_thread(thread: threading.Thread) -> bool:
    """The default executor keeps its workers (``asyncio.to_thread`` is the right thing to use)."""
    return thread.name.startswith(DEFAULT_EXECUTOR_THREADS)


def open_fds() -> dict[int, str]:
    fds: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed between listdir and readlink
            continue
    return fds


HOST_TASKS = ("journal-", "area-tracker", "incident-", "registry-", "conformance-")
"""Tasks the gateway or the kit itself runs; never the plugin's."""


def leaked_tasks(before: Snapshot, after: Snapshot) -> list[asyncio.Task[object]]:
    current = asyncio.current_task()
    return [
        t
        for t in after.tasks - before.tasks
        if t is not current and not t.done() and not t.get_name().startswith(HOST_TASKS)
    ]


def describe_task(task: asyncio.Task[object]) -> str:
    return f"{task.get_name()} ({task.get_coro()!r})"[:200]


def new_threads(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(t.name for t in after.threads - before.threads if t.is_alive())


def new_fds(before: Snapshot, after: Snapshot, ignore_under: Path) -> tuple[list[str], list[str]]:
    """(sockets, other descriptors) open now that were not before, journal files aside."""
    sockets: list[str] = []
    others: list[str] = []
    for fd, target in after.fds.items():
        if before.fds.get(fd) == target or target.startswith(str(ignore_under)):
            continue
        (sockets if target.startswith("socket:") else others).append(f"fd {fd} -> {target}")
    return sockets, others


def connected_sockets(fds: list[int]) -> list[int]:
    """Of these socket descriptors, the connected ones (not listening servers)."""
    connected = []
    for fd in fds:
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                continue
            sock.getpeername()
            connected.append(fd)
        except OSError:
            continue
        finally:
            sock.close()
    return connected


def drop_connection(fd: int) -> None:
    """Cut a connection the way a dead peer or a pulled cable would look to the plugin."""
    sock = socket.socket(fileno=os.dup(fd))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()
