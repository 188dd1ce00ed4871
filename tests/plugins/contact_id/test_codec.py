"""Parsing: spacing, notations, and one specific reason per kind of bad frame."""

from __future__ import annotations

import pytest

from plugins.contact_id.codec import (
    MAX_FRAME_BYTES,
    MessageType,
    Notation,
    Qualifier,
    parse,
)
from plugins.contact_id.errors import ContactIdError
from plugins.contact_id.hooks import CODEC
from tests.plugins.contact_id.helpers import ctx, frame


def test_fields_are_typed_and_kept_as_sent() -> None:
    m = parse("1234181131010158")
    assert m.account == "1234"
    assert m.message_type is MessageType.PREFERRED
    assert m.qualifier is Qualifier.NEW
    assert (m.event_code, m.group, m.ccc, m.checksum) == ("131", "01", "015", "8")
    assert m.checksum_ok and m.ccc_is == "zone" and m.zone == "15" and m.user is None
    assert m.area == "1" and m.code == "E131"


def test_spaces_tabs_and_line_ends_are_ignored() -> None:
    for text in ("1234 18 1131 01 015 8", "\t1234181131010158\r\n", b"1234 18 1 131 01 015 8"):
        assert parse(text) == parse("1234181131010158")


def test_message_type_98_is_accepted() -> None:
    assert parse(frame(message_type="98")).message_type is MessageType.OPTIONAL


def test_lower_case_hex_is_read() -> None:
    assert parse(frame(account="BCDE").lower()).account == "BCDE"


def test_user_codes_carry_a_user_not_a_zone() -> None:
    m = parse(frame(qualifier="3", event="401", ccc="003"))
    assert (m.ccc_is, m.user, m.zone, m.qualifier) == ("user", "3", None, Qualifier.RESTORE)


def test_zero_ccc_and_group_mean_none() -> None:
    m = parse(frame(event="602", group="00", ccc="000"))
    assert (m.zone, m.user, m.area) == (None, None, None)


def test_dtmf_notation_maps_star_hash_a_b_c_to_b_to_f() -> None:
    assert parse("123418340103005C", Notation.DTMF) == parse("123418340103005F")
    with pytest.raises(ContactIdError, match="DTMF 'D' at position 16 is not used"):
        parse("123418340103005D", Notation.DTMF)
    with pytest.raises(ContactIdError, match=r"'F' at position 16 is not a Contact ID DTMF"):
        parse("123418340103005F", Notation.DTMF)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("123418113101015", "has 16 digits, got 15"),
        ("12341811310101588", "has 16 digits, got 17"),
        ("", "has 16 digits, got 0"),
        ("12341811310101_8", "'_' at position 15 is not a Contact ID digit"),
        ("1234181A31010158", "hex digit 'A' at position 8 is not used in Contact ID"),
        ("1234181131010157", "bad checksum: expected 8, got 7"),
        (frame(message_type="17"), "message type 17 is Ademco Express 4\\+1, not Contact ID"),
        (
            frame(message_type="42"),
            "message type 42 is unknown; expected Contact ID \\(18 or 98\\)",
        ),
        (frame(qualifier="7"), "unknown event qualifier 7"),
        (b"1234\xff81131010158", "byte 0xff at position 5 is not ASCII"),
        (b"1" * (MAX_FRAME_BYTES + 1), f"frame of {MAX_FRAME_BYTES + 1} bytes is too long"),
    ],
)
def test_each_bad_frame_has_its_own_reason(data: str | bytes, reason: str) -> None:
    raw = data if isinstance(data, bytes) else data.encode()
    with pytest.raises(ContactIdError, match=reason):
        CODEC.decode(raw, ctx())


def test_checksum_is_judged_before_the_fields() -> None:
    garbled = frame(qualifier="7")[:15] + "1"
    with pytest.raises(ContactIdError, match="bad checksum"):
        parse(garbled)


def test_bad_checksum_can_be_kept_for_diagnostics() -> None:
    m = parse("1234181131010157", verify_checksum=False)
    assert m.checksum_ok is False and m.to_dict()["checksum_ok"] is False


def test_error_is_a_codec_error_and_a_value_error() -> None:
    from gateway.sdk.codec import CodecError

    assert issubclass(ContactIdError, CodecError) and issubclass(ContactIdError, ValueError)
