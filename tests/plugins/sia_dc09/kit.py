"""The kit's vector file for the frame codec, built from the repository's DC-09 vectors.

Plain frames only (the kit's decode has no keys), decoded with ``Variants()`` defaults: frames
that need an off-by-default variant (binary CRC, decimal length) are listed with the error the
default decoder gives. Regenerate after a codec change with
``.venv/bin/python -m tests.plugins.sia_dc09.kit`` and review the diff.
"""

from __future__ import annotations

import json
from typing import Any

from plugins.sia_dc09.dc09 import Dc09Error, Reason, parse_frame
from tests.conftest import REPO
from tests.plugins.sia_dc09.helpers import frame_bytes, kind, vectors

KIT_FILE = REPO / "plugins" / "sia_dc09" / "dc09" / "vectors.json"
MESSAGE_FIELDS = (
    "token",
    "encrypted",
    "seq",
    "receiver",
    "line",
    "account",
    "data",
    "xdata",
    "timestamp",
    "variants_seen",
)
ERROR_TEXT = {
    Reason.CRC: ("bad CRC", "binary_crc variant"),
    Reason.LENGTH: ("bad length",),
    Reason.FORMAT: ("expected CRC",),
}


def _error_text(exc: Dc09Error) -> str:
    for text in ERROR_TEXT[exc.reason]:
        if text in str(exc):
            return text
    raise AssertionError(f"no stable substring for {exc}")


def kit_entries() -> list[dict[str, Any]]:
    entries = []
    for vector in vectors():
        if kind(vector) not in ("frame", "binary_crc", "oh_heartbeat"):
            continue
        value = vector["input"]
        frame: Any = {"hex": value["hex"]} if isinstance(value, dict) else value
        entry: dict[str, Any] = {"frame": frame}
        try:
            message = parse_frame(frame_bytes(vector)).to_dict()
        except Dc09Error as exc:
            entry["error"] = _error_text(exc)
        else:
            entry["message"] = {k: message[k] for k in MESSAGE_FIELDS}
        entry["source"] = f"{vector['source']} ({vector['provenance']})"
        entries.append(entry)
    return entries


def kit_document() -> dict[str, Any]:
    return {
        "codec": "sia-dc09",
        "source": (
            "conformance/vectors/sia_dc09.json (copy of shared/conformance/vectors/sia_dc09.json):"
            " its plain frames, decoded with parse_frame and Variants() defaults; each entry"
            " names the vector's own source"
        ),
        "vectors": kit_entries(),
    }


def render() -> str:
    return json.dumps(kit_document(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    KIT_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {KIT_FILE}")
