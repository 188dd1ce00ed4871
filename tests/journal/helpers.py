from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.model import Event


def ev(
    n: int = 0, kind: str = "intrusion", source: str = "hq/panel-1/zone-1", **kw: object
) -> Event:
    base: dict[str, object] = {
        "kind": kind,
        "phase": "alarm",
        "priority": 2,
        "source": source,
        "data": {"n": n},
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def raw_db(data_dir: Path) -> sqlite3.Connection:
    """A plain connection for tests that play the attacker."""
    return sqlite3.connect(data_dir / "journal.sqlite3", isolation_level=None)
