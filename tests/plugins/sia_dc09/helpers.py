"""Reading the repository's DC-09 vectors and taking frames apart independently of the codec."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from plugins.sia_dc09.dc09.crc import crc16_arc
from tests.conftest import REPO

CONFORMANCE = REPO / "conformance"
NOW = datetime(2026, 9, 25, 14, 12, 4, tzinfo=UTC)
ASCII_KEYS = {
    128: "AAAAAAAAAAAAAAAA",  # the key of pysiaalarm's and AjaxSiaCodec's test frames
    192: "0123456789ABCDEF01234567",
    256: "00112233445566778899AABBCCDDEEFF",
}


def vectors() -> list[dict[str, Any]]:
    """The repository copy (never ../shared at test time)."""
    path = CONFORMANCE / "vectors" / "sia_dc09.json"
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def frame_bytes(vector: dict[str, Any]) -> bytes:
    value = vector["input"]
    return bytes.fromhex(value["hex"]) if isinstance(value, dict) else str(value).encode()


def vector_id(vector: dict[str, Any]) -> str:
    value = vector["input"]
    if isinstance(value, dict):
        return str(value.get("text_after_crc") or value)[:40]
    return str(value)[:40]


def kind(vector: dict[str, Any]) -> str:
    """What level a vector belongs to."""
    value = vector["input"]
    if isinstance(value, dict):
        return "binary_crc" if "hex" in value else "window"
    if "crc16_arc" in vector["expected"]:
        return "crc_check"
    if value.startswith("SR"):
        return "oh_heartbeat"
    if '"*' in value:
        return "encrypted"
    return "frame"


def split_frame(frame: bytes) -> tuple[str, str, bytes]:
    """CRC field, length field and region of ``LF CRC LLLL region CR`` (hex CRC), no codec."""
    assert frame[:1] == b"\n" and frame[-1:] == b"\r", frame
    return frame[1:5].decode(), frame[5:9].decode(), frame[9:-1]


def assert_framed(frame: bytes) -> bytes:
    """Check CRC and length with this module's own arithmetic; return the region."""
    crc, length, region = split_frame(frame)
    assert crc == f"{crc16_arc(region):04X}"
    assert length == f"{len(region):04X}" and length[0] == "0"
    return region


def with_crc(body: str | bytes) -> bytes:
    """``CRC LLLL`` + region for a region, as the wire has it without LF/CR."""
    region = body.encode("latin-1") if isinstance(body, str) else body
    return f"{crc16_arc(region):04X}{len(region):04X}".encode() + region
