"""Splitting a TCP byte stream into DC-09 frames: bytes in, whole frames out; no I/O.

"LF / CR: 0x0A start, 0x0D end (binary)". A read may carry several frames or part of one;
bytes outside a frame (NULs some senders put after CR, noise) are dropped and counted. A frame
that grows past ``max_frame`` bytes without its CR is reported once, as ``too_long``, and
everything up to the next LF is skipped: the buffer never holds more than ``max_frame`` bytes
between reads (h11 bounds its buffer the same way). An LF before the CR means the frame was cut
short; it is reported as ``format`` and the new LF starts the next frame.

With the ``binary_crc`` variant the two bytes after LF are the raw CRC and may be 0x0A or
0x0D themselves, so they are never read as delimiters.
"""

from __future__ import annotations

import re
from enum import Enum, auto

from plugins.sia_dc09.dc09.errors import Dc09Error, Reason
from plugins.sia_dc09.dc09.frame import MAX_FRAME_BYTES

LF = 0x0A
_DELIMITER = re.compile(b"[\r\n]")


class _State(Enum):
    BETWEEN = auto()
    IN_FRAME = auto()
    SKIPPING = auto()


class FrameSplitter:
    """Feed it what the socket read; it returns each whole frame (LF to CR) or the error
    standing for a broken one, in stream order."""

    def __init__(self, max_frame: int = MAX_FRAME_BYTES, *, binary_crc: bool = False) -> None:
        if max_frame < 3:
            raise ValueError("a frame is at least LF, one byte and CR")
        self.max_frame = max_frame
        self._opaque = 3 if binary_crc else 1
        """Offset in a frame from which CR and LF are delimiters."""
        self._buffer = bytearray()
        self._state = _State.BETWEEN
        self._scanned = 0
        self.discarded = 0
        """Bytes dropped so far outside frames and while skipping an oversize one."""

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held for the next read."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | Dc09Error]:
        self._buffer += data
        out: list[bytes | Dc09Error] = []
        while self._buffer:
            if self._state is not _State.IN_FRAME:
                if not self._start():
                    break
            elif not self._frame(out):
                break
        return out

    def _start(self) -> bool:
        """Drop bytes up to the next LF; False when there is none yet."""
        start = self._buffer.find(LF)
        dropped = len(self._buffer) if start < 0 else start
        self.discarded += dropped
        del self._buffer[:dropped]
        if start < 0:
            return False
        self._state, self._scanned = _State.IN_FRAME, 0
        return True

    def _frame(self, out: list[bytes | Dc09Error]) -> bool:
        """Emit the frame at the buffer's start if its end is here; False to wait for more."""
        found = _DELIMITER.search(self._buffer, max(self._scanned, self._opaque))
        if found is None:
            if len(self._buffer) >= self.max_frame:
                out.append(self._too_long(f"no CR within {self.max_frame} bytes"))
                self.discarded += len(self._buffer)
                self._buffer.clear()
                self._state = _State.SKIPPING
                return False
            self._scanned = len(self._buffer)
            return False
        end = found.start()
        if self._buffer[end] == LF:
            out.append(
                Dc09Error(Reason.FORMAT, f"frame cut short: a new LF after {end} bytes, no CR")
            )
            self.discarded += end
            del self._buffer[:end]
            self._scanned = 0
            return True
        frame = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        self._state = _State.BETWEEN
        if len(frame) > self.max_frame:
            self.discarded += len(frame)
            out.append(self._too_long(f"frame of {len(frame)} bytes"))
        else:
            out.append(frame)
        return True

    def _too_long(self, what: str) -> Dc09Error:
        return Dc09Error(Reason.TOO_LONG, f"{what}: longer than {self.max_frame} bytes")
