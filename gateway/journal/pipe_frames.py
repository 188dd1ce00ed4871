"""Messages to and from the writer process in the pipes' framing (sans-IO).

The writer uses ``multiprocessing.Connection``: a 4-byte big-endian signed length, then the
bytes (a length of -1 is followed by an 8-byte unsigned one, for messages of 2 GiB or more).
The gateway frames what it sends with :func:`frame` and writes it whole, and reads the pipe
itself, non-blocking, cutting the messages with :class:`FrameBuffer`:
``Connection.poll()`` builds a selector on every call, and ``recv_bytes`` reads the header and
the body separately, which made reading the writer's answers the largest single cost of a
commit on the event loop. ``tests/journal/test_pipe_frames.py`` checks this against a real
``multiprocessing`` pipe.
"""

from __future__ import annotations

import struct

_LENGTH = struct.Struct("!i")
_LONG_LENGTH = struct.Struct("!Q")


def frame(message: bytes) -> bytes:
    """``message`` as ``Connection.recv_bytes`` at the other end expects it."""
    if len(message) > 0x7FFFFFFF:
        return _LENGTH.pack(-1) + _LONG_LENGTH.pack(len(message)) + message
    return _LENGTH.pack(len(message)) + message


class FrameBuffer:
    """Feed it bytes as they arrive; it returns each complete message once."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        start = 0
        end = len(buffer)
        while end - start >= 4:
            (size,) = _LENGTH.unpack_from(buffer, start)
            header = 4
            if size == -1:
                if end - start < 12:
                    break
                (size,) = _LONG_LENGTH.unpack_from(buffer, start + 4)
                header = 12
            elif size < 0:
                raise ValueError(f"a message length of {size} in the pipe")
            if end - start - header < size:
                break
            body = start + header
            messages.append(bytes(buffer[body : body + size]))
            start = body + size
        if start:
            del buffer[:start]
        return messages

    @property
    def partial(self) -> int:
        """Bytes of a message not complete yet."""
        return len(self._buffer)
