"""Where Anfang keeps its data: ``$XDG_DATA_HOME/anfang`` unless config or ``--data-dir`` says."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "anfang"
