"""The body codec against its vectors and fuzzing, and the HTTP parser on split and bad input."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest
from gateway.sdk import DecodeContext
from hypothesis import given, settings
from hypothesis import strategies as st

from anfang_plugin_webhook.errors import WebhookError
from anfang_plugin_webhook.http11 import HttpError, Request, RequestParser
from anfang_plugin_webhook.mapping import decode
from anfang_plugin_webhook.plugin import CODEC
from anfang_plugin_webhook.signature import sign, verify

assert CODEC.vectors is not None
VECTORS: list[dict[str, Any]] = json.loads(CODEC.vectors.read_text())["vectors"]

FUZZ = settings(deadline=None)
"""No per-example deadline: one stall of a busy CI machine is not a codec fault (speed is
what bench/ measures)."""


def frame_bytes(frame: str | dict[str, str]) -> bytes:
    return frame.encode("utf-8") if isinstance(frame, str) else bytes.fromhex(frame["hex"])


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: str(v["frame"])[:40])
def test_vector(vector: dict[str, Any]) -> None:
    frame = frame_bytes(vector["frame"])
    if "error" in vector:
        with pytest.raises(WebhookError, match=re.escape(vector["error"])):
            decode(frame, DecodeContext())
        return
    decoded = decode(frame, DecodeContext())
    assert decoded.message.items() >= vector["message"].items()
    events = [event.model_dump(mode="json") for event in decoded.events]
    assert len(events) == len(vector["events"])
    for event, expected in zip(events, vector["events"], strict=True):
        assert event.items() >= expected.items()
        assert event["raw"] == frame.decode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
reports = st.fixed_dictionaries(
    {},
    optional={
        "account": st.one_of(st.text(max_size=70), st.integers(-5, 10**70), json_values),
        "kind": st.sampled_from(["intrusion", "fire", "door.forced", "x.y", "Bad"]) | json_values,
        "phase": st.sampled_from(["alarm", "restore", "status", "momentary", "end"]),
        "zone": st.text(max_size=70) | st.integers(-5, 10**70) | json_values,
        "occurred_at": st.datetimes().map(lambda d: d.isoformat()) | st.text(max_size=30),
        "text": st.text(max_size=1100) | json_values,
        "data": json_values,
    },
)


@FUZZ
@given(reports)
def test_random_reports_raise_only_the_codec_error(report: dict[str, Any]) -> None:
    with contextlib.suppress(WebhookError):
        decode(json.dumps(report).encode(), DecodeContext())


@FUZZ
@given(st.binary(max_size=300))
def test_random_bodies_raise_only_the_codec_error(body: bytes) -> None:
    with contextlib.suppress(WebhookError):
        decode(body, DecodeContext())


def test_deep_nesting_and_huge_numbers_are_codec_errors() -> None:
    for body in (b"[" * 4000 + b"]" * 4000, b'{"account": ' + b"9" * 5000 + b"}"):
        with pytest.raises(WebhookError, match="does not read"):
            decode(body, DecodeContext())


REQUEST = (
    b"POST /anfang/events?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n"
    b'X-Anfang-Signature: a\r\nx-anfang-signature: b\r\n\r\n{"a": true}'
)


def test_a_request_split_anywhere_parses_the_same() -> None:
    for cut in range(1, len(REQUEST)):
        parser = RequestParser(max_body=100)
        assert parser.feed(REQUEST[:cut]) is None
        request = parser.feed(REQUEST[cut:])
        assert request == Request(
            "POST",
            "/anfang/events?x=1",
            {"host": "127.0.0.1", "content-length": "11", "x-anfang-signature": "a, b"},
            b'{"a": true}',
        )
        assert request.path == "/anfang/events"


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"POST /e HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
        (b"POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"POST /e HTTP/2.0\r\n\r\n", 505),
        (b"POST e HTTP/1.1\r\n\r\n", 400),
        (b"POST /e HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400),
        (b"POST /e HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /e HTTP/1.1\r\n folded: header\r\n\r\n", 400),
        (b"POST /e HTTP/1.1\r\nX-Big: " + b"a" * 9000, 431),
    ],
)
def test_bad_requests_get_the_status_a_client_expects(head: bytes, status: int) -> None:
    with pytest.raises(HttpError) as caught:
        RequestParser(max_body=100).feed(head)
    assert caught.value.status == status


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_random_bytes_give_a_request_none_or_an_http_error(chunks: list[bytes]) -> None:
    parser = RequestParser(max_body=1000)
    with contextlib.suppress(HttpError):
        for chunk in chunks:
            parser.feed(chunk)


def test_signature_is_checked_against_the_raw_body() -> None:
    secret, body = b"0123456789abcdef", b'{"account": "1"}'
    header = sign(secret, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(secret, body, header) is None
    assert verify(secret, body, header.upper().replace("SHA256=", "sha256=")) is None
    assert "missing" in (verify(secret, body, None) or "")
    assert "must start with" in (verify(secret, body, header[7:]) or "")
    assert "does not match" in (verify(secret, body + b" ", header) or "")
    assert "does not match" in (verify(b"another secret!!", body, header) or "")
    assert "does not match" in (verify(secret, body, "sha256=\u00e9") or "")
