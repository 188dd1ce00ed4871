"""Every vector in conformance/vectors/sia_dc09.json, each at the level it belongs to.

* Frames with ``crc_valid``/``length_valid`` true (or not stated): decode to the stated fields,
  and our CRC and length equal the file's ``verified_here`` values.
* Frames marked ``crc_valid: false`` / ``length_valid: false`` (pysiaalarm's test fixtures):
  refused with that reason. CRC is checked before length, so a frame with both wrong is refused
  for its CRC; with the CRC made right it is then refused for its length. Repaired, their content
  carries the stated code ("use for CONTENT parsing only").
* ELDES's decimal length and OPAX's binary CRC: refused by default, decoded with their variant.
* Encrypted frames: decoded with the stated ASCII key; the one with an unknown key passes CRC and
  length and stops at the key.
* The timestamp-window cases go to ``within_window``; the CRC check value to ``crc16_arc``.
* The Osborne-Hoffman heartbeat is another framing: refused as a DC-09 frame.

Representation notes, not errata: ``receiver``/``prefix``/``line`` are stated with their letter
(``R15``, ``L1``), the codec keeps the digits; ``cid``/``sia``/``data`` are the block after
``#acct|``; ``ack_frame`` writes LF and CR as the two-character escapes ``\\n`` and ``\\r``.
No vector was found to be wrong.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from plugins.sia_dc09.dc09 import (
    Dc09Error,
    Dc09Message,
    Key,
    Reason,
    Variant,
    Variants,
    build_ack,
    crc16_arc,
    format_timestamp,
    parse_frame,
    within_window,
)
from tests.plugins.sia_dc09.helpers import NOW, frame_bytes, kind, vector_id, vectors, with_crc

VECTORS = vectors()


def _of(*kinds: str, where: Any = lambda v: True) -> list[Any]:
    return [pytest.param(v, id=vector_id(v)) for v in VECTORS if kind(v) in kinds and where(v)]


def _valid(v: dict[str, Any]) -> bool:
    e = v["expected"]
    return e.get("crc_valid", True) is not False and e.get("length_valid", True) is not False


def _quirk(v: dict[str, Any]) -> bool:
    return "quirk" in v["expected"]


def test_every_vector_is_covered() -> None:
    kinds = [kind(v) for v in VECTORS]
    assert set(kinds) == {
        "frame",
        "encrypted",
        "binary_crc",
        "window",
        "crc_check",
        "oh_heartbeat",
    }
    assert kinds.count("frame") >= 18 and kinds.count("encrypted") == 3
    assert all(v["source"] and v["provenance"] for v in VECTORS)


def check_stated(message: Dc09Message, expected: dict[str, Any]) -> None:
    """The fields a vector states, in the vector's own notation."""
    if "id" in expected:
        assert ("*" if message.encrypted else "") + message.token == expected["id"]
    for name in ("seq", "account"):
        if name in expected:
            assert getattr(message, name) == expected[name]
    if "receiver" in expected:
        assert f"R{message.receiver}" == expected["receiver"]
    for name in ("prefix", "line"):
        if name in expected:
            assert f"L{message.line}" == expected[name]
    for name in ("cid", "sia", "data"):
        if name in expected:
            assert message.body == expected[name]
    if "xdata" in expected:
        assert [k + v for k, v in message.xdata.items()] == expected["xdata"]
    if "timestamp" in expected:
        stamp = expected["timestamp"]
        got = format_timestamp(message.timestamp)[1:] if message.timestamp else None
        assert got == stamp
    if "code" in expected and "zone" in expected:
        assert f"{expected['code']}{expected['zone']}" in message.body
    if "ri" in expected:
        assert f"ri{expected['ri']}" in message.body


def check_verified(raw: bytes, verified: dict[str, Any]) -> None:
    region = raw[8:] if raw[8:9] == b'"' else raw[6:]
    if "crc_calc" in verified:
        assert f"{crc16_arc(region):04X}" == verified["crc_calc"]
    if "len_calc" in verified:
        assert f"{len(region):04X}" == verified["len_calc"]


@pytest.mark.parametrize("vector", _of("frame", where=lambda v: _valid(v) and not _quirk(v)))
def test_valid_frame_decodes_as_stated(vector: dict[str, Any]) -> None:
    raw = frame_bytes(vector)
    message = parse_frame(raw)
    check_stated(message, vector["expected"])
    check_verified(raw, vector["verified_here"])
    assert message.raw == raw and not message.encrypted
    assert set(message.variants_seen) <= {Variant.DATA_WITHOUT_ACCOUNT}
    # LF/CR framing as a TCP receiver sees it changes nothing
    assert parse_frame(b"\n" + raw + b"\r").to_dict() | {"raw": None} == message.to_dict() | {
        "raw": None
    }


@pytest.mark.parametrize("vector", _of("frame", where=lambda v: not _valid(v) and not _quirk(v)))
def test_frame_marked_invalid_is_refused_for_its_reason(vector: dict[str, Any]) -> None:
    raw, expected = frame_bytes(vector), vector["expected"]
    first = Reason.CRC if expected["crc_valid"] is False else Reason.LENGTH
    with pytest.raises(Dc09Error) as caught:
        parse_frame(raw)
    assert caught.value.reason is first
    check_verified(raw, vector["verified_here"])
    region = raw[8:]
    crc_fixed = f"{crc16_arc(region):04X}".encode() + raw[4:]
    if expected["length_valid"] is False:
        with pytest.raises(Dc09Error) as caught:
            parse_frame(crc_fixed)
        assert caught.value.reason is Reason.LENGTH
        assert vector["verified_here"]["len_calc"] in str(caught.value)
    # content only: with CRC and length made right, the stated code is in the data block
    message = parse_frame(with_crc(region))
    code = expected["code"].removesuffix("(NULL)")
    if code != "RP":  # NULL: pysiaalarm names a link test RP, the frame has no code
        assert re.search(rf"(^|[/N0-9]){code}", message.body), message.body


@pytest.mark.parametrize("vector", _of("frame", where=_quirk))
def test_decimal_length_needs_its_variant(vector: dict[str, Any]) -> None:
    raw = frame_bytes(vector)
    assert vector["verified_here"]["len_field"] == "0047"
    with pytest.raises(Dc09Error, match="bad length") as caught:
        parse_frame(raw)
    assert caught.value.reason is Reason.LENGTH
    message = parse_frame(raw, variants=Variants(decimal_length=True))
    assert message.variants_seen == (Variant.DECIMAL_LENGTH,)
    check_stated(message, vector["expected"])
    assert (message.receiver, message.line) == ("4F39", "4F39")


@pytest.mark.parametrize("vector", _of("binary_crc"))
def test_binary_crc_needs_its_variant(vector: dict[str, Any]) -> None:
    raw = frame_bytes(vector)
    assert raw[2:].decode() == vector["input"]["text_after_crc"]
    with pytest.raises(Dc09Error, match="binary_crc variant") as caught:
        parse_frame(raw)
    assert caught.value.reason is Reason.CRC
    message = parse_frame(b"\n" + raw + b"\r", variants=Variants(binary_crc=True))
    assert message.variants_seen == (Variant.BINARY_CRC,)
    check_stated(message, vector["expected"])
    assert (
        f"{crc16_arc(raw[6:]):04X}" == vector["verified_here"]["crc_calc"] == raw[:2].hex().upper()
    )


def _keys(vector: dict[str, Any]) -> Any:
    key = Key.from_ascii(vector["key_ascii"]) if "key_ascii" in vector else None
    return lambda account: key


@pytest.mark.parametrize("vector", _of("encrypted", where=lambda v: "key_ascii" in v))
def test_encrypted_frame_decodes_with_its_key(vector: dict[str, Any]) -> None:
    raw, expected = frame_bytes(vector), vector["expected"]
    message = parse_frame(raw, keys=_keys(vector))
    assert message.encrypted
    check_stated(message, expected)
    check_verified(raw, vector["verified_here"])
    decrypted = vector["verified_here"]["decrypted"]
    assert decrypted.endswith(format_timestamp(message.timestamp))  # type: ignore[arg-type]
    if "plaintext_tail" in expected:  # pysiaalarm's *NULL: 'p' pad, no '|'
        assert message.variants_seen == (Variant.PAD_WITHOUT_BAR,)
        assert message.data == "" and decrypted.endswith(expected["plaintext_tail"])
        with pytest.raises(Dc09Error, match="no '|'") as caught:
            parse_frame(raw, keys=_keys(vector), variants=Variants(pad_without_bar=False))
        assert caught.value.reason is Reason.KEY
    if "receiver_time" in expected:
        now = datetime.fromisoformat(expected["receiver_time"])
        assert message.timestamp is not None
        assert (message.timestamp - now).total_seconds() == expected["skew_seconds"]
        assert within_window(message.timestamp, now) is expected["within_window"]
        message.check_time(now)
    with pytest.raises(Dc09Error) as caught:
        parse_frame(raw)
    assert caught.value.reason is Reason.NO_KEY and caught.value.reason.response == "DUH"
    assert caught.value.header is not None
    assert caught.value.header.account == message.account


@pytest.mark.parametrize("vector", _of("encrypted", where=lambda v: "key_ascii" not in v))
def test_encrypted_frame_with_unknown_key_passes_crc_and_length(vector: dict[str, Any]) -> None:
    raw = frame_bytes(vector)
    assert vector["expected"]["crc_valid"] and vector["expected"]["length_valid"]
    with pytest.raises(Dc09Error) as caught:
        parse_frame(raw)
    assert caught.value.reason is Reason.NO_KEY  # CRC, length and header were fine
    header = caught.value.header
    assert header is not None and (header.token, header.seq, header.account) == (
        "*ADM-CID",
        "6879",
        "123F",
    )
    wrong = Key.from_ascii("AAAAAAAAAAAAAAAA")
    with pytest.raises(Dc09Error, match="bad key or corrupt ciphertext") as caught:
        parse_frame(raw, keys=lambda account: wrong)
    assert caught.value.reason is Reason.KEY and caught.value.reason.response == "NAK"


def test_ack_for_the_ajax_vector_is_byte_exact() -> None:
    (vector,) = [v for v in VECTORS if "ack_frame" in v["expected"]]
    expected = vector["expected"]
    ack = build_ack(parse_frame(frame_bytes(vector)), NOW)
    wanted = expected["ack_frame"].replace("\\n", "\n").replace("\\r", "\r")
    assert ack == wanted.encode()
    assert ack[9:-1].decode() == expected["ack_body"]
    assert (
        ack[1:9].decode() + expected["ack_body"] == vector["verified_here"]["ack_crc_len_computed"]
    )


@pytest.mark.parametrize("vector", _of("window"))
def test_timestamp_window(vector: dict[str, Any]) -> None:
    skew = timedelta(seconds=vector["input"]["message_time_minus_receiver_time_s"])
    assert within_window(NOW + skew, NOW) is vector["expected"]["within_window"]


@pytest.mark.parametrize("vector", _of("oh_heartbeat"))
def test_osborne_hoffman_heartbeat_is_not_a_dc09_frame(vector: dict[str, Any]) -> None:
    """``SR0001L0001    006969XX    [ID00000000]`` (answered "ACK" by pysiaalarm) has no CRC,
    length or token: a receiver that wants it must recognise it before this codec."""
    with pytest.raises(Dc09Error, match="expected CRC") as caught:
        parse_frame(frame_bytes(vector))
    assert caught.value.reason is Reason.FORMAT
