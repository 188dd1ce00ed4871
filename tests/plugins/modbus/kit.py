"""The kit's vector files for the three frame codecs, built from the repository's Modbus vectors.

Every frame vector of ``conformance/vectors/modbus.json`` (RTU, TCP, ASCII) becomes a kit entry
with the fields our decoder gives (reviewed against the vector's stated meaning in
test_vectors.py), plus damaged copies (CRC, length, truncation) with the error they must give.
Regenerate after a codec change with ``.venv/bin/python -m tests.plugins.modbus.kit`` and
review the diff.
"""

from __future__ import annotations

import json
from typing import Any

from plugins.modbus.frames import FrameError, decode_ascii, decode_rtu, decode_tcp
from tests.conftest import REPO

VECTORS = REPO / "conformance" / "vectors" / "modbus.json"
KIT_DIR = REPO / "plugins" / "modbus" / "frames"
DECODERS = {"rtu_hex": decode_rtu, "tcp_hex": decode_tcp, "ascii": decode_ascii}
FILES = {
    "rtu_hex": "vectors_rtu.json",
    "tcp_hex": "vectors_tcp.json",
    "ascii": "vectors_ascii.json",
}
CODEC_NAMES = {"rtu_hex": "modbus-rtu", "tcp_hex": "modbus-tcp", "ascii": "modbus-ascii"}


def vectors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def frame_of(form: str, text: str) -> bytes:
    if form == "ascii":
        return text.replace("\\r\\n", "\r\n").encode("ascii")
    return bytes.fromhex(text)


def _kit_frame(form: str, frame: bytes) -> Any:
    return frame.decode("ascii") if form == "ascii" else {"hex": frame.hex()}


def _damaged(form: str, frame: bytes) -> list[tuple[bytes, str, str]]:
    """(frame, expected error substring, what was done) for one good frame."""
    if form == "rtu_hex":
        bad = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        return [
            (bad, "bad CRC", "last CRC byte inverted"),
            (frame[:3], "too short", "cut to 3 bytes"),
        ]
    if form == "tcp_hex":
        return [(frame[:-1], "MBAP length", "last byte cut")]
    body = frame.rstrip(b"\r\n")
    bad = body[:-2] + (b"00" if body[-2:] != b"00" else b"11") + b"\r\n"
    return [(bad, "bad LRC", "LRC replaced")]


def kit_documents() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for form, codec in CODEC_NAMES.items():
        docs[form] = {
            "codec": codec,
            "source": (
                "conformance/vectors/modbus.json (copy of shared/conformance/vectors/modbus.json)"
                ", decoded by plugins.modbus.frames; damaged copies derived here; each entry"
                " names its vector's source"
            ),
            "vectors": [],
        }
    for vector in vectors():
        value = vector["input"]
        if not isinstance(value, dict):
            continue
        for form in DECODERS:
            if form not in value:
                continue
            frame = frame_of(form, value[form])
            message = DECODERS[form](frame).to_dict()
            meaning = vector["expected"].get("meaning", "")
            source = f"{vector['source']} ({vector['provenance']}): {meaning}"
            entries = docs[form]["vectors"]
            entries.append({"frame": _kit_frame(form, frame), "message": message, "source": source})
            for bad, error, how in _damaged(form, frame):
                try:
                    DECODERS[form](bad)
                except FrameError as exc:
                    assert error in str(exc), (bad, exc)
                else:
                    raise AssertionError(f"{bad!r} decoded")
                entries.append(
                    {"frame": _kit_frame(form, bad), "error": error, "source": f"{source}; {how}"}
                )
    return docs


def render(form: str) -> str:
    return json.dumps(kit_documents()[form], indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for form, name in FILES.items():
        (KIT_DIR / name).write_text(render(form), encoding="utf-8")
        print(f"wrote {KIT_DIR / name}")
