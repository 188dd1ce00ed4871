"""Frames and responses byte for byte: ACK, *ACK, NAK, DUH, RSP, and build → parse round trips.

CRC and length are checked with the helpers' own arithmetic (``assert_framed``), so a wrong
region boundary in the builder cannot hide behind the same mistake in the parser.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.sia_dc09.dc09 import (
    Dc09Error,
    Header,
    Key,
    Reason,
    Token,
    Variant,
    Variants,
    build_ack,
    build_duh,
    build_frame,
    build_nak,
    build_rsp,
    crc16_arc,
    parse_frame,
)
from plugins.sia_dc09.dc09.crypto import decrypt, strip_pad
from tests.plugins.sia_dc09.helpers import ASCII_KEYS, NOW, assert_framed, with_crc

KEY = Key.from_ascii(ASCII_KEYS[128])
ZERO_PAD = {"pad": lambda n: b"0" * n}


def request(region: str, **kwargs: object) -> object:
    return parse_frame(with_crc(region), **kwargs)  # type: ignore[arg-type]


def test_plain_frame_exact() -> None:
    frame = build_frame(
        "SIA-DCS",
        2,
        "78919",
        "#78919|Nri1/BA012",
        receiver="1",
        line="232",
        xdata={"X": "012W34.1", "Y": "045N12.2"},
        timestamp=NOW,
    )
    assert frame == (
        b'\n73580056"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]'
        b"_14:12:04,09-25-2026\r"
    )  # the AjaxSiaCodec test frame, CRC 7358 and length 0056 as published


def test_null_without_timestamp_or_receiver() -> None:
    frame = build_frame(Token.NULL, "0000", "000", line="0")
    assert assert_framed(frame) == b'"NULL"0000L0#000[]'


def test_encrypted_frame_shape() -> None:
    frame = build_frame("ADM-CID", 9999, "123F", "#123F|1130 01 015", timestamp=NOW, key=KEY)
    region = assert_framed(frame)
    head, _, cipher = region.partition(b"[")
    assert head == b'"*ADM-CID"9999L0#123F'
    assert cipher == cipher.upper() and len(cipher) % 32 == 0
    plaintext, _ = strip_pad(decrypt(KEY, cipher.decode()))
    assert plaintext == b"#123F|1130 01 015]_14:12:04,09-25-2026"


def test_ack_echoes_seq_receiver_line_account() -> None:
    m = request('"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012]')
    assert build_ack(m, NOW) == b'\n0AFE0017"ACK"0002R1L232#78919[]\r'  # type: ignore[arg-type]
    m = request('"NULL"0000L000#0809[]_21:00:01,02-20-2024')
    assert assert_framed(build_ack(m, NOW)) == b'"ACK"0000L000#0809[]'  # type: ignore[arg-type]


def test_encrypted_ack_carries_the_receiver_time() -> None:
    raw = build_frame("SIA-DCS", 7654, "1111", "#1111|Nri1/WA000", timestamp=NOW, key=KEY)
    m = parse_frame(raw, keys=lambda a: KEY)
    later = NOW + timedelta(seconds=3)
    ack = build_ack(m, later, KEY)
    region = assert_framed(ack)
    head, _, cipher = region.partition(b"[")
    assert head == b'"*ACK"7654L0#1111'
    plaintext = decrypt(KEY, cipher.decode())
    pad, bar, rest = plaintext.partition(b"|")
    assert rest == b"]_14:12:07,09-25-2026" and bar == b"|" and len(pad) == 10
    with pytest.raises(Dc09Error) as caught:
        build_ack(m, later)  # no key: cannot answer *ACK
    assert caught.value.reason is Reason.NO_KEY
    assert decrypt(KEY, build_ack(m, later, KEY, **ZERO_PAD)[27:-1].decode()).startswith(
        b"0000000000|]"
    )


def test_nak_exact_and_never_encrypted() -> None:
    nak = build_nak(NOW)
    assert nak == b"\n" + with_crc('"NAK"0000R0L0A0[]_14:12:04,09-25-2026') + b"\r"
    assert assert_framed(nak) == b'"NAK"0000R0L0A0[]_14:12:04,09-25-2026'
    assert build_nak(NOW, binary_crc=True)[1:3] == crc16_arc(nak[9:-1]).to_bytes(2, "big")


def test_duh_from_a_message_or_an_error_header() -> None:
    raw = build_frame(
        "SIA-DCS", 42, "ABC", "#ABC|NZZ1", receiver="7", line="3", timestamp=NOW, key=KEY
    )
    m = parse_frame(raw, keys=lambda a: KEY)
    assert assert_framed(build_duh(m)) == b'"DUH"0042R7L3#ABC[]'  # in clear
    with pytest.raises(Dc09Error) as caught:
        parse_frame(raw)  # no key here
    assert caught.value.header is not None
    assert build_duh(caught.value.header) == build_duh(m)
    assert (
        build_duh(Header("X", "0001", None, "0", "123"))
        == b"\n" + with_crc('"DUH"0001L0#123[]') + b"\r"
    )


def test_rsp_for_a_key_request() -> None:
    raw = build_frame("SIA-DCS", 5, "1234", "#1234|NRP", xdata={"K": ""}, timestamp=NOW, key=KEY)
    m = parse_frame(raw, keys=lambda a: KEY)
    assert m.requests_key
    new = "0123456789ABCDEF0123456789ABCDEF"
    rsp = build_rsp(m, NOW, xdata={"K": new}, key=KEY)
    head, _, cipher = assert_framed(rsp).partition(b"[")
    assert head == b'"*RSP"0005L0#1234'
    rest, _ = strip_pad(decrypt(KEY, cipher.decode()))
    assert rest == f"][K{new}]_14:12:04,09-25-2026".encode()
    plain = request('"SIA-DCS"0005L0#1234[#1234|NRP][K]')
    assert assert_framed(build_rsp(plain, NOW, data="x", xdata={"K": new})) == (  # type: ignore[arg-type]
        f'"RSP"0005L0#1234[x][K{new}]'.encode()
    )


def test_binary_crc_senders_get_binary_crc_replies() -> None:
    raw = bytes.fromhex(
        "c55b30303241224e554c4c223030303052384c302334313231335b5d5f32313a30303a31302c30322d32302d32303234"
    )
    m = parse_frame(raw, variants=Variants(binary_crc=True))
    assert Variant.BINARY_CRC in m.variants_seen
    ack = build_ack(m, NOW)
    region = ack[7:-1]
    assert region == b'"ACK"0000R8L0#41213[]' and ack[3:7] == f"{len(region):04X}".encode()
    assert ack[1:3] == crc16_arc(region).to_bytes(2, "big")
    assert (
        parse_frame(
            build_frame("NULL", 0, "41213", receiver="8", binary_crc=True),
            variants=Variants(binary_crc=True),
        ).receiver
        == "8"
    )


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"token": "*SIA-DCS"}, "no '\\*'"),
        ({"token": "ACK"}, "not SIA-DCS"),
        ({"seq": 10000}, "4 decimal"),
        ({"seq": "12"}, "4 decimal"),
        ({"account": "12"}, "account"),
        ({"account": "XYZ1"}, "account"),
        ({"receiver": "1234567"}, "receiver"),
        ({"line": ""}, "line"),
        ({"data": "#1234|N]RP"}, "data"),
        ({"data": "#1234|N\rRP"}, "data"),
        ({"xdata": {"x": "1"}}, "identifier"),
        ({"xdata": {"XY": "1"}}, "identifier"),
        ({"xdata": {"X": "1]"}}, "extended data X"),
        ({"key": KEY}, "timestamp"),
        ({"data": "#1234|N" + "A" * 5000}, "4095"),
    ],
)
def test_builder_refuses_what_cannot_be_sent(kwargs: dict[str, object], why: str) -> None:
    args: dict[str, object] = {"token": "SIA-DCS", "seq": 1, "account": "1234", "data": "#1234|NRP"}
    args.update(kwargs)
    with pytest.raises(Dc09Error, match=why):
        build_frame(**args)  # type: ignore[arg-type]


HEX = "0123456789ABCDEF"


@given(
    token=st.sampled_from(list(Token)),
    seq=st.integers(0, 9999),
    account=st.text(HEX, min_size=3, max_size=16),
    receiver=st.none() | st.text(HEX, min_size=1, max_size=6),
    line=st.text(HEX, min_size=1, max_size=6),
    body=st.text(
        st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="[]"),
        max_size=60,
    ),
    xdata=st.dictionaries(
        st.sampled_from("ABCHIKLMNVXYZ"),
        st.text(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="[]"),
            max_size=20,
        ),
        max_size=4,
    ),
    seconds=st.integers(0, 10**9),
    bits=st.sampled_from([None, 128, 192, 256]),
)
def test_round_trip(
    token: Token,
    seq: int,
    account: str,
    receiver: str | None,
    line: str,
    body: str,
    xdata: dict[str, str],
    seconds: int,
    bits: int | None,
) -> None:
    key = Key.from_ascii(ASCII_KEYS[bits]) if bits else None
    data = f"#{account}|{body}" if token is not Token.NULL else ""
    when = NOW + timedelta(seconds=seconds)
    raw = build_frame(
        token,
        seq,
        account,
        data,
        receiver=receiver,
        line=line,
        xdata=xdata,
        timestamp=when,
        key=key,
    )
    assert_framed(raw)
    m = parse_frame(raw, keys=lambda a: key, max_bytes=4096)
    assert (m.token, m.encrypted, m.seq, m.receiver, m.line, m.account) == (
        token,
        key is not None,
        f"{seq:04d}",
        receiver,
        line,
        account,
    )
    assert (m.data, dict(m.xdata), m.timestamp) == (data, xdata, when)
    assert m.variants_seen == ()
