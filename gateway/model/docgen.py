"""Writes the generated docs: ``docs/event-kinds.md`` and ``docs/schemas/*.json``.

Run ``python -m gateway.model.docgen`` after changing the model; a test fails while the committed
files differ from what the code produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from gateway.model.command import AuditEntry, Command, CommandResult
from gateway.model.entities import Area, Device, Point
from gateway.model.event import Event
from gateway.model.kinds import KindRegistry, render_markdown

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "event": Event,
    "command": Command,
    "command-result": CommandResult,
    "audit-entry": AuditEntry,
    "device": Device,
    "point": Point,
    "area": Area,
}


def schema_text(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated path with the text the code produces for it now."""
    files = {root / "docs" / "event-kinds.md": render_markdown(KindRegistry())}
    for name, model in SCHEMA_MODELS.items():
        files[root / "docs" / "schemas" / f"{name}.v1.json"] = schema_text(model)
    return files


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    for path, text in generated_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
