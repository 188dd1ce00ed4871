"""Just enough HTTP/1.1 for a webhook receiver, sans-IO: bytes in, one request out.

The parser reads one request with a ``Content-Length`` body (what webhook senders, curl and
``http.client`` send) and refuses the rest with the status a client expects: 400 for a malformed
request, 413 for a body over the limit (before it is sent), 431 for an oversized head, 501 for
``Transfer-Encoding`` and 505 for another HTTP version. The server answers one request per
connection and closes it (``Connection: close``), so there is no pipelining to get wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

MAX_HEAD = 8192
MAX_HEADERS = 64
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_REQUEST_LINE = re.compile(r"([A-Z]{1,16}) (/[\x21-\x7e]*) (HTTP/\d\.\d)")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class HttpError(Exception):
    """A request the parser refuses; ``status`` is the response code to send."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    """Lower-case names; a repeated header's values joined with ``, ``."""
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        body = json.dumps(self.body).encode("utf-8")
        lines = [
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def error(status: int, reason: str, *headers: tuple[str, str]) -> Response:
    return Response(status, {"error": reason}, headers)


def _head(text: str) -> tuple[str, str, dict[str, str]]:
    request_line, *header_lines = text.split("\r\n")
    match = _REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise HttpError(400, "malformed request line")
    method, target, version = match.groups()
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"{version} is not supported; use HTTP/1.1")
    if len(header_lines) > MAX_HEADERS:
        raise HttpError(431, f"more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HttpError(400, f"malformed header line {line[:40]!r}")
        key, value = name.lower(), value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, target, headers


def _content_length(headers: dict[str, str], max_body: int) -> int:
    if "transfer-encoding" in headers:
        raise HttpError(501, "Transfer-Encoding is not supported; send Content-Length")
    values = {v.strip() for v in headers.get("content-length", "0").split(",")}
    if len(values) != 1 or not (value := values.pop()).isdigit() or len(value) > 12:
        raise HttpError(400, "malformed Content-Length")
    if int(value) > max_body:
        raise HttpError(413, f"body of {value} bytes is larger than {max_body}")
    return int(value)


class RequestParser:
    """Reads one request from the bytes fed to it; holds at most the head and ``max_body``."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._buffer = bytearray()
        self._head: tuple[str, str, dict[str, str]] | None = None
        self._length = 0
        self._continue = False

    def feed(self, data: bytes) -> Request | None:
        """The request once it is complete, None while more bytes are needed; HttpError if bad."""
        self._buffer += data
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise HttpError(431, f"request head larger than {MAX_HEAD} bytes")
                return None
            if end > MAX_HEAD:
                raise HttpError(431, f"request head larger than {MAX_HEAD} bytes")
            self._head = _head(self._buffer[:end].decode("latin-1"))
            self._length = _content_length(self._head[2], self._max_body)
            self._continue = self._head[2].get("expect", "").lower() == "100-continue"
            del self._buffer[: end + 4]
        if len(self._buffer) < self._length:
            return None
        method, target, headers = self._head
        return Request(method, target, headers, bytes(self._buffer[: self._length]))

    def take_continue(self) -> bool:
        """True once, when the client waits for ``100 Continue`` before sending the body."""
        wanted, self._continue = self._continue, False
        return wanted
