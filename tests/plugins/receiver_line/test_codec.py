"""The sans-IO line codec: the vector file through the kit's own checks, the splitter's
bounds, and each layout's reading where receivers differ."""

from __future__ import annotations

import json

import pytest

from conformance.codec_checks import check_codec
from conformance.report import Status
from plugins.receiver_line.codec import CODEC
from plugins.receiver_line.errors import LineError, LineReason
from plugins.receiver_line.messages import CidLine, ForeignLine, Heartbeat, SiaLine
from plugins.receiver_line.parse import parse_line
from plugins.receiver_line.splitter import LineSplitter
from tests.conftest import REPO

VECTORS = REPO / "conformance" / "vectors" / "receiver_line.json"


def test_the_kit_checks_pass_on_the_vector_file() -> None:
    assert CODEC.vectors == VECTORS
    results = check_codec(CODEC, fuzz_examples=300)
    assert [(r.name, r.status) for r in results] == [
        ("codec.receiver-line.vectors", Status.PASS),
        ("codec.receiver-line.fuzz", Status.PASS),
    ], [r.detail for r in results]


def test_every_vector_names_its_source_and_the_manual_examples_are_there() -> None:
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    vectors = doc["vectors"]
    assert all(v["source"] and v["provenance"] for v in vectors)
    frames = {v["frame"] for v in vectors}
    assert "5011 181234E12101001\x14" in frames  # MLR2-E manual's duress example
    assert "1011           @    \x14" in frames  # MLR2-DG manual's heartbeat
    assert sum(v["provenance"].startswith("spec") for v in vectors) >= 5
    assert any("error" in v for v in vectors) and any("events" in v for v in vectors)


def test_the_splitter_takes_dc4_or_cr_and_drops_empty_lines_and_a_leading_lf() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"\n1011           @    \x14\r\n5011 18") == [b"1011           @    "]
    assert splitter.feed(b"1234E13001015\r") == [b"5011 181234E13001015"]
    assert splitter.pending == 0


def test_the_splitter_bounds_a_stream_without_terminators() -> None:
    splitter = LineSplitter(max_line=64)
    out = splitter.feed(b"x" * 1000)
    assert len(out) == 1 and isinstance(out[0], LineError)
    assert out[0].reason is LineReason.TOO_LONG
    assert splitter.pending == 0
    assert splitter.feed(b"more junk\x14") == []  # the rest of that line is skipped
    assert splitter.feed(b"1011           @    \x14") == [b"1011           @    "]


@pytest.mark.parametrize(
    ("line", "receiver", "line_no"),
    [
        ("5011 181234E13001015", "01", "1"),  # MLR2: RRL
        ("501100 181234E13001015", "01", "100"),  # System I/II/III/5: RRLLL
        ("5011181234E13001015", "01", "1"),  # no space before 18
        ("5011 181234113001015", "01", "1"),  # the DC-05 digit qualifier
    ],
)
def test_contact_id_headers_and_qualifiers(line: str, receiver: str, line_no: str) -> None:
    message = parse_line(line)
    assert isinstance(message, CidLine)
    assert (message.header.receiver, message.header.line) == (receiver, line_no)
    assert (message.account, message.report.code, message.report.zone) == ("1234", "E130", "15")


def test_qualifiers_e_r_p_are_dc05_1_3_6() -> None:
    got = [parse_line(f"5011 181234{q}13001015") for q in "ERP"]
    assert [m.report.qualifier.value for m in got if isinstance(m, CidLine)] == ["1", "3", "6"]


def test_sia_lines_internal_and_protocol_1() -> None:
    sia = parse_line("S01100[#12AB|Nri2/BA003]")
    assert isinstance(sia, SiaLine) and not sia.internal and sia.account == "12AB"
    assert [e.code for e in sia.block.events] == ["BA"]
    internal = parse_line("S01100[#0000|NRU0000]")
    assert isinstance(internal, SiaLine) and internal.internal
    old = parse_line("3011    001234BA0012")
    assert isinstance(old, SiaLine) and old.account == "001234"


def test_heartbeat_and_foreign_lines() -> None:
    assert isinstance(parse_line("101000           @    "), Heartbeat)
    foreign = parse_line("6011      1234BA0001")  # BFSK protocol
    assert isinstance(foreign, ForeignLine) and foreign.header.protocol == "6"


@pytest.mark.parametrize(
    ("line", "reason", "says"),
    [
        (b"5011 181234A1300101", LineReason.CONTACT_ID, "5RRLs18AAAAQXYZGGCCC"),
        (b"5011 18\xff234E13001015", LineReason.CHARACTER, "0xff at position 8"),
        (b"S011[#1234|Nri1/ba012]", LineReason.SIA, "SIA block"),
        (b"3011    001234ba0012", LineReason.SIA, "SIA protocol 1"),
        (b"1011 @ @", LineReason.HEARTBEAT, "heartbeat"),
        (b"-", LineReason.HEADER, "protocol id"),
        (b"5" * 600, LineReason.TOO_LONG, "longer than 512"),
    ],
)
def test_garbled_lines_say_what_is_wrong(line: bytes, reason: LineReason, says: str) -> None:
    with pytest.raises(LineError) as err:
        parse_line(line)
    assert err.value.reason is reason
    assert says in str(err.value)


def test_the_length_limit_is_the_instances_own() -> None:
    """A line within a configured ``max_line`` above the default is judged by its content,
    not refused as too long (the splitter already enforces the configured limit)."""
    long_sia = b"S01001[#1234|NBA" + b"1" * 600 + b"]"
    with pytest.raises(LineError) as default:
        parse_line(long_sia)
    assert default.value.reason is LineReason.TOO_LONG
    try:
        parse_line(long_sia, max_line=1024)
    except LineError as exc:
        assert exc.reason is not LineReason.TOO_LONG
