"""Framing for the host ↔ isolated-plugin socket: 4-byte big-endian length, then UTF-8 JSON.

Sans-IO, so the framing is tested without sockets and both ends share one implementation. Every
frame is one JSON object; the size is bounded so a corrupt length (or a runaway plugin) is an
error rather than an attempt to buffer gigabytes.
"""

from __future__ import annotations

import json
import struct
from typing import Any

MAX_FRAME = 16 * 1024 * 1024
"""Largest frame body either end accepts or sends, in bytes."""

_HEADER = struct.Struct(">I")

Message = dict[str, Any]


class FrameError(ValueError):
    """A frame that is too large, not UTF-8 JSON, or not a JSON object: the link is unusable."""


def encode(message: Message, max_frame: int = MAX_FRAME) -> bytes:
    """One frame holding ``message``; FrameError if it does not fit or is not JSON-able."""
    try:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise FrameError(f"message is not JSON-serialisable: {exc}") from None
    if len(body) > max_frame:
        raise FrameError(f"frame of {len(body)} bytes exceeds the {max_frame}-byte limit")
    return _HEADER.pack(len(body)) + body


class FrameDecoder:
    """Feed it bytes as they arrive; it returns the complete messages, keeping any remainder."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._max = max_frame
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (non-zero at EOF means a truncated frame)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        messages: list[Message] = []
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            if size > self._max:
                raise FrameError(f"frame of {size} bytes exceeds the {self._max}-byte limit")
            end = _HEADER.size + size
            if len(self._buf) < end:
                break
            body = bytes(self._buf[_HEADER.size : end])
            del self._buf[:end]
            messages.append(_decode_body(body))
        return messages


def _decode_body(body: bytes) -> Message:
    try:
        message = json.loads(body.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"frame is not UTF-8 JSON: {exc}") from None
    if not isinstance(message, dict):
        raise FrameError(f"frame holds a JSON {type(message).__name__}, not an object")
    return message
