"""Child process for the SIGKILL test: appends forever, printing every acknowledged record.

``ack <seq> <id>`` is printed (and flushed) only after ``await journal.append`` returned, i.e.
after the journal said "committed"; the parent kills this process at random moments and checks
that every printed record is in the journal, once, at the printed seq.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gateway.journal import Journal
from gateway.model import Event

PUBLISHERS = 8


async def main(data_dir: Path, run: int) -> None:
    journal = await Journal.open(data_dir)
    print("ready", flush=True)
    out = sys.stdout

    async def publisher(p: int) -> None:
        n = 0
        while True:
            event = Event(
                kind="intrusion",
                phase="alarm",
                priority=2,
                source=f"hq/panel-{p}/zone-1",
                data={"run": run, "n": n},
            )
            seq = await journal.append(event)
            out.write(f"ack {seq} {event.id}\n")
            out.flush()
            n += 1

    await asyncio.gather(*(publisher(p) for p in range(PUBLISHERS)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
