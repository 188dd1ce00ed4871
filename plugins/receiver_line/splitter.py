"""Cutting a receiver's byte stream into lines: sans-IO, bounded, never stuck.

Sur-Gard receivers end every line with DC4 (0x14); receivers emulating them (VisorALARM's
Ademco 685 mode, some converters) end it with CR and may start it with LF. Either terminator
ends a line here, and a leading LF or NUL is dropped, so ``...[DC4]``, ``...<CR>`` and
``<LF>...<CR><LF>`` all give the same line. Empty lines (a CR after a DC4) are not messages.
"""

from __future__ import annotations

import re

from plugins.receiver_line.errors import LineError, LineReason

MAX_LINE = 512
"""Longest line accepted, in bytes. The longest documented Sur-Gard line is the SIA protocol
(``SRRLLL[#AAAAAA|...]``, "maximum 66-byte data block" per the SG automation protocol §4.7,
about 90 bytes with its header); caller-id and SIM lines are under 40. 512 leaves room for
vendors' longer SIA texts while a stream without terminators cannot grow the buffer (h11
bounds its buffer the same way)."""

DC4 = 0x14
CR = 0x0D
_END = re.compile(rb"[\x14\r]")
_LEADING = b"\n\x00"


class LineSplitter:
    """Feed bytes as they arrive; get whole lines (or a LineError for an overlong one) back."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False  # the rest of an overlong line is skipped up to its end

    def feed(self, data: bytes) -> list[bytes | LineError]:
        self._buf += data
        out: list[bytes | LineError] = []
        while True:
            match = _END.search(self._buf)
            if match is None:
                if len(self._buf) > self.max_line:
                    if not self._discarding:
                        out.append(self._too_long())
                        self._discarding = True
                    self._buf.clear()
                return out
            end = match.start()
            line = bytes(self._buf[:end]).lstrip(_LEADING).rstrip(b"\n")
            del self._buf[: end + 1]
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self.max_line:
                out.append(self._too_long())
            elif line.strip(b" "):
                out.append(line)

    @property
    def pending(self) -> int:
        """Bytes held waiting for a terminator (a test's and a metric's view)."""
        return len(self._buf)

    def _too_long(self) -> LineError:
        return LineError(
            LineReason.TOO_LONG,
            f"no DC4 or CR terminator within {self.max_line} bytes; the line is discarded",
        )
