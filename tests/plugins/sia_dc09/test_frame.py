"""parse_frame rule by rule: framing, CRC, length, token, header, blocks, timestamp, variants."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugins.sia_dc09.dc09 import (
    MAX_FRAME_BYTES,
    Dc09Error,
    Key,
    Reason,
    Token,
    Variant,
    Variants,
    build_frame,
    crc16_arc,
    parse_frame,
)
from plugins.sia_dc09.dc09.crypto import encrypt
from tests.conftest import REPO
from tests.plugins.sia_dc09.helpers import ASCII_KEYS, NOW, with_crc

KEY = Key.from_ascii(ASCII_KEYS[128])
SIA = '"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]_14:12:04,09-25-2026'


def reason(raw: bytes, **kwargs: object) -> Reason:
    with pytest.raises(Dc09Error) as caught:
        parse_frame(raw, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) and "\n" not in str(caught.value)
    return caught.value.reason


def test_fields() -> None:
    m = parse_frame(b"\n" + with_crc(SIA) + b"\r")
    assert (m.token, m.encrypted, m.seq, m.receiver, m.line, m.account) == (
        Token.SIA_DCS,
        False,
        "0002",
        "1",
        "232",
        "78919",
    )
    assert (m.data, m.data_account, m.body) == ("#78919|Nri1/BA012", "78919", "Nri1/BA012")
    assert dict(m.xdata) == {"X": "012W34.1", "Y": "045N12.2"}
    assert m.timestamp == NOW and m.timestamp.tzinfo is UTC
    assert m.variants_seen == () and not m.requests_key
    assert m.header.token == "SIA-DCS" and m.header.receiver == "1"


def test_to_dict_is_json_ready() -> None:
    m = parse_frame(with_crc(SIA))
    d = m.to_dict()
    assert d["timestamp"] == "2026-09-25T14:12:04+00:00" and d["xdata"]["X"] == "012W34.1"
    assert d["raw"] == with_crc(SIA).decode() and d["variants_seen"] == []
    assert json.loads(json.dumps(d)) == d


def test_message_is_immutable() -> None:
    m = parse_frame(with_crc(SIA))
    with pytest.raises(AttributeError):
        m.seq = "0003"  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.xdata["Z"] = "1"  # type: ignore[index]


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ('"SIA-DCS"002L0#1234[#1234|NRP]', "sequence"),
        ('"SIA-DCS"0002R1#1234[#1234|NRP]', "L field"),
        ('"SIA-DCS"0002RL0#1234[#1234|NRP]', "L field"),
        ('"SIA-DCS"0002L0#12[#12|NRP]', "account"),
        ('"SIA-DCS"0002L0#1234#1234|NRP]', "account"),
        ('"SIA-DCS"0002L0#12345678901234567[#1|NRP]', "account"),
        ('"SIA-DCS"0002L0#GGGG[#1234|NRP]', "account"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP', "closing"),
        ('"SIA-DCS"0002L0#1234[#1234|N[RP]', "'\\['"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP][X1', "closing"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP][]', "identifier"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP][x1]', "identifier"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP][X1][X2]', "twice"),
        ('"SIA-DCS"0002L0#1234[#1234|NRP]junk', "after the data"),
        ('"SIA-DCS"0002L0#1234[]', "needs a data block"),
        ('SIA-DCS"0002L0#1234[#1234|NRP]', "CRC"),
        ('"SIA-DCS0002L0#1234[#1234|NRP]', "quoted token"),
    ],
)
def test_format_errors(region: str, why: str) -> None:
    with pytest.raises(Dc09Error, match=why) as caught:
        parse_frame(with_crc(region))
    assert caught.value.reason is Reason.FORMAT and caught.value.reason.response == "NAK"


def test_crc_errors() -> None:
    good = with_crc(SIA)
    assert reason(b"0000" + good[4:]) is Reason.CRC
    assert reason(b"ZZZZ" + good[4:]) is Reason.CRC
    flipped = good[:-1] + bytes([good[-1] ^ 1])
    assert reason(flipped) is Reason.CRC
    assert parse_frame(good[:4].lower() + good[4:]).seq == "0002"  # hex case is not a rule


def test_length_errors() -> None:
    good = with_crc(SIA)
    for field in (b"0057", b"1056", b"00G6", b"056"):
        assert reason(good[:4] + field + good[8:]) in (Reason.LENGTH, Reason.FORMAT)
    assert reason(good[:4] + b"0057" + good[8:]) is Reason.LENGTH
    assert reason(good[:4] + b"1056" + good[8:]) is Reason.LENGTH


def test_decimal_length_only_as_variant() -> None:
    region = SIA.encode()
    decimal = f"{crc16_arc(region):04X}{len(region):04d}".encode() + region  # 0086, not 0056
    assert reason(decimal) is Reason.LENGTH
    m = parse_frame(decimal, variants=Variants(decimal_length=True))
    assert m.variants_seen == (Variant.DECIMAL_LENGTH,)


def test_unknown_token_keeps_the_header_for_duh() -> None:
    with pytest.raises(Dc09Error, match="unknown token") as caught:
        parse_frame(with_crc('"SIA-DCX"0042R7L3#ABC[#ABC|NRP]'))
    exc = caught.value
    assert exc.reason is Reason.UNKNOWN_TOKEN and exc.reason.response == "DUH"
    assert exc.header is not None
    assert (exc.header.token, exc.header.seq, exc.header.receiver) == ("SIA-DCX", "0042", "7")
    assert reason(with_crc('"ACK"0042L0#ABC[]')) is Reason.UNKNOWN_TOKEN  # responses too


@pytest.mark.parametrize("token", list(Token))
def test_every_token_plain_and_encrypted(token: Token) -> None:
    data = "" if token is Token.NULL else "#1234|Nri1/BA012"
    for key in (None, KEY):
        m = parse_frame(
            build_frame(token, 1, "1234", data, timestamp=NOW, key=key), keys=lambda a: KEY
        )
        assert (m.token, m.encrypted, m.data) == (token, key is not None, data)


def test_receiver_and_line_are_hex_up_to_six() -> None:
    m = parse_frame(with_crc('"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]'))
    assert (m.receiver, m.line, m.account) == ("579BDF", "789ABC", "12345A")
    assert m.timestamp is None


def test_data_without_account_is_a_flagged_variant() -> None:
    for data in ("3044|NOP1", "|Nri1/CL501", "Nri1/WA000"):
        raw = with_crc(f'"SIA-DCS"0004L000#3044[{data}]')
        m = parse_frame(raw)
        assert m.data == data and m.variants_seen == (Variant.DATA_WITHOUT_ACCOUNT,)
        strict = Variants(data_without_account=False)
        with pytest.raises(Dc09Error, match="#acct") as caught:
            parse_frame(raw, variants=strict)
        assert caught.value.reason is Reason.FORMAT
    assert parse_frame(with_crc('"NULL"0000L0#3044[]')).variants_seen == ()


def test_trailing_nuls() -> None:
    raw = b"\n" + with_crc(SIA) + b"\r\x00\x00"
    m = parse_frame(raw)
    assert m.variants_seen == (Variant.TRAILING_NULS,) and m.raw == raw
    assert reason(raw, variants=Variants(trailing_nuls=False)) is Reason.FORMAT


def test_local_time_only_as_variant() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    raw = with_crc(SIA)
    m = parse_frame(raw, variants=Variants(local_time=amsterdam))
    assert m.variants_seen == (Variant.LOCAL_TIME,)
    assert m.timestamp == NOW - timedelta(hours=2)  # CEST in September
    assert m.timestamp is not None and m.timestamp.tzinfo is UTC
    assert parse_frame(raw).timestamp == NOW


@pytest.mark.parametrize(
    "stamp", ["_14:12:04,09-25-201", "_25:12:04,09-25-2026", "_14:12:04,02-30-2026", "_x"]
)
def test_bad_timestamps(stamp: str) -> None:
    """Including pysiaalarm's DC-04 case with a 3-digit year."""
    assert reason(with_crc(f'"SIA-DCS"0002L0#1234[#1234|NRP]{stamp}')) is Reason.TIMESTAMP


def test_encrypted_needs_a_key_and_a_timestamp() -> None:
    raw = build_frame("SIA-DCS", 3, "1234", "#1234|NRP", timestamp=NOW, key=KEY)
    assert reason(raw) is Reason.NO_KEY
    assert reason(raw, keys=lambda account: None) is Reason.NO_KEY
    other = Key.from_ascii("BBBBBBBBBBBBBBBB")
    assert reason(raw, keys=lambda account: other) is Reason.KEY
    # the same message encrypted without its timestamp (the builder refuses, so by hand)
    region = '"*SIA-DCS"0003L0#1234[' + encrypt(KEY, b"#1234|NRP]")
    assert reason(with_crc(region), keys=lambda a: KEY) is Reason.TIMESTAMP
    assert reason(with_crc('"*SIA-DCS"0003L0#1234[ABC'), keys=lambda a: KEY) is Reason.FORMAT


def test_keys_are_looked_up_by_account() -> None:
    keys = {"1234": KEY, "ABCD": Key.from_hex("00112233445566778899AABBCCDDEEFF")}
    for account, key in keys.items():
        raw = build_frame("NULL", 0, account, timestamp=NOW, key=key)
        assert parse_frame(raw, keys=keys.get).account == account


def test_too_long() -> None:
    raw = with_crc('"SIA-DCS"0002L0#1234[#1234|N' + "A" * MAX_FRAME_BYTES + "]")
    assert reason(raw) is Reason.TOO_LONG
    assert parse_frame(raw, max_bytes=4096).body.startswith("NAAA")


def test_key_request_calls_for_rsp() -> None:
    raw = build_frame("SIA-DCS", 1, "1234", "#1234|NRP", xdata={"K": ""}, timestamp=NOW, key=KEY)
    m = parse_frame(raw, keys=lambda a: KEY)
    assert m.requests_key and m.xdata["K"] == ""


def test_text_in_utf8_and_windows_1252() -> None:
    utf8 = with_crc('"SIA-DCS"0002L0#1234[#1234|NOP3^Jérôme^]'.encode())
    cp1252 = with_crc('"SIA-DCS"0002L0#1234[#1234|NOP3^Jérôme^]'.encode("cp1252"))
    assert parse_frame(utf8).body == parse_frame(cp1252).body == "NOP3^Jérôme^"


def test_check_time() -> None:
    plain = parse_frame(with_crc(SIA))
    plain.check_time(NOW + timedelta(hours=1))  # unencrypted: no window unless asked
    with pytest.raises(Dc09Error) as caught:
        plain.check_time(NOW + timedelta(hours=1), plain=True)
    assert caught.value.reason is Reason.TIMESTAMP
    raw = build_frame("NULL", 0, "1234", timestamp=NOW - timedelta(seconds=41), key=KEY)
    m = parse_frame(raw, keys=lambda a: KEY)
    with pytest.raises(Dc09Error, match="-41 s") as caught:
        m.check_time(NOW)
    m.check_time(NOW - timedelta(seconds=2))


def test_a_naive_now_is_not_a_dc09_timestamp() -> None:
    with pytest.raises(Dc09Error) as caught:
        build_frame("NULL", 0, "1234", timestamp=datetime(2026, 1, 1))
    assert caught.value.reason is Reason.TIMESTAMP


def test_reasons_map_to_nak_or_duh() -> None:
    duh = {r for r in Reason if r.response == "DUH"}
    assert duh == {Reason.UNKNOWN_TOKEN, Reason.NO_KEY}
    assert {r.value for r in Reason} == {
        "too_long",
        "crc",
        "length",
        "format",
        "unknown_token",
        "no_key",
        "key",
        "timestamp",
    }


def test_errors_pickle_with_reason_and_header() -> None:
    with pytest.raises(Dc09Error) as caught:
        parse_frame(with_crc('"SIA-DCX"0042R7L3#ABC[#ABC|NRP]'))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.reason, copy.header, str(copy)) == (
        caught.value.reason,
        caught.value.header,
        str(caught.value),
    )


def test_every_extended_data_identifier_in_the_table() -> None:
    """conformance/tables/dc09_xdata.json (pysiaalarm's list of 18): each one is read back.
    The table's lengths are not enforced: real frames exceed them (``X006E07.7777777``)."""
    path = REPO / "conformance" / "tables" / "dc09_xdata.json"
    table = json.loads(path.read_text(encoding="utf-8"))["xdata"]
    assert len(table) == 18
    xdata = {ident: f"v{ident}" for ident in table}
    raw = build_frame("SIA-DCS", 1, "1234", "#1234|NRP", xdata=xdata, timestamp=NOW, key=KEY)
    assert dict(parse_frame(raw, keys=lambda a: KEY).xdata) == xdata
