"""The SIA-DCS data-block parser: real blocks, modifiers, several events, errors, fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.sdk.codec import CodecError, DecodeContext
from plugins.sia_dc09.sia.codes import CODES
from plugins.sia_dc09.sia.data import (
    MAX_BLOCK_CHARS,
    AccountForm,
    SiaBlock,
    SiaEvent,
    parse_data,
)
from plugins.sia_dc09.sia.errors import SiaDataError, SiaDataReason
from plugins.sia_dc09.sia.mapping import sia_to_events


def one(block: str | bytes) -> SiaEvent:
    """The one event of a block."""
    events = parse_data(block).events
    assert len(events) == 1
    return events[0]


# -- real blocks ------------------------------------------------------------------------------
# Data blocks of the frames in shared/conformance/vectors/sia_dc09.json, as the DC-09 codec
# hands them over (between '[' and ']', decrypted, pad removed); each names its source.

REAL = [
    # AjaxSiaCodec tests/test_codec.php: 73580056"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012]...
    ("#78919|Nri1/BA012", "78919", AccountForm.HASH, "BA", "12", "1"),
    # PROSEC capture (Go ParseDc09 comment): B4330036"SIA-DCS"0442L000#36214[36214|NRP]...
    ("36214|NRP", "36214", AccountForm.BARE, "RP", None, None),
    # PROSEC capture: 3F60003C"SIA-DCS"0001L0#51449[#51449|Nri0000/LR]...
    ("#51449|Nri0000/LR", "51449", AccountForm.HASH, "LR", None, "0"),
    # PROSEC capture: 85340035"SIA-DCS"0004L000#3044[3044|NBC1]...
    ("3044|NBC1", "3044", AccountForm.BARE, "BC", "1", None),
    # pysiaalarm tests/test_sia_package_cases.py (EventParsing), no slash after ri
    ("#123456|Nri1CL0^VX FRONTE ^", "123456", AccountForm.HASH, "CL", "0", "1"),
    ("#123456|Nri0KR1^TAST. 001 ^", "123456", AccountForm.HASH, "KR", "1", "0"),
    ("|Nri2/JC12", None, AccountForm.EMPTY, "JC", "12", "2"),
    ("|Nri1/CL501", None, AccountForm.EMPTY, "CL", "501", "1"),
    ("#1111|Nri1/PA501", "1111", AccountForm.HASH, "PA", "501", "1"),
    ("Nri1/WA000", None, AccountForm.MISSING, "WA", "0", "1"),
    # pysiaalarm case_op: 90820051"SIA-DCS"4738R0001L0001[#006969|Nri04/OP001NM]
    ("#006969|Nri04/OP001NM", "006969", AccountForm.HASH, "OP", "1", "4"),
    # pysiaalarm utils test script, decrypted contents after the pad
    ("#EA1984|Nri0/RP0000", "EA1984", AccountForm.HASH, "RP", "0", "0"),
    ("#EA1984|Nri1/NL4", "EA1984", AccountForm.HASH, "NL", "4", "1"),
    # AjaxSiaCodec decrypt vector: 0000000000000000|Nri1/WA000]_16:04:02,07-09-2020
    ("Nri1/WA000", None, AccountForm.MISSING, "WA", "0", "1"),
]


@pytest.mark.parametrize(("block", "account", "form", "code", "address", "area"), REAL)
def test_real_blocks(
    block: str,
    account: str | None,
    form: AccountForm,
    code: str,
    address: str | None,
    area: str | None,
) -> None:
    parsed = parse_data(block)
    assert (parsed.account, parsed.account_form) == (account, form)
    assert parsed.account_missing is (form is not AccountForm.HASH)
    (event,) = parsed.events
    assert (event.code, event.address, event.area, event.known, event.new) == (
        code,
        address,
        area,
        True,
        True,
    )
    assert parsed.processable


def test_caret_text_is_kept_trimmed() -> None:
    assert one("#123456|Nri1CL0^VX FRONTE ^").text == "VX FRONTE"
    assert one("OP3^Jérôme^").text == "Jérôme"  # sia_dc09.md: UTF-8 seen
    assert one("NOP3^^").text is None


def test_bytes_are_read_as_utf8_or_windows_1252() -> None:
    assert one("NOP3^Jérôme^".encode()).text == "Jérôme"
    assert one("NOP3^Jérôme^".encode("cp1252")).text == "Jérôme"  # sia_dc09.md: Win-1252 seen


def test_trailing_letters_are_kept_not_read_as_a_second_event() -> None:
    """``OP001NM`` (pysiaalarm case_op): NM would read as 'perimeter armed' right after a
    disarm; the parser keeps it aside instead of inventing an arming."""
    event = one("#006969|Nri04/OP001NM")
    assert (event.code, event.address, event.trailing) == ("OP", "1", "NM")


# -- the N flag and codes that start with N ------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "code", "address", "new"),
    [
        ("NRP", "RP", None, True),
        ("NOP1", "OP", "1", True),  # PROSEC [3044|NOP1]
        ("NBA12", "BA", "12", True),  # not NB + A12
        ("NNL2", "NL", "2", True),  # sia_dc09.md: N + NL2, not N + N + L2
        ("NL2", "NL", "2", False),  # the code NL, no flag
        ("NA12", "NA", "12", False),  # the code NA (no activity)
        ("NNA12", "NA", "12", True),
        ("BA5", "BA", "5", False),  # no flag at all: flagged as not new
    ],
)
def test_new_flag_or_code(block: str, code: str, address: str | None, new: bool) -> None:
    event = one(block)
    assert (event.code, event.address, event.new) == (code, address, new)


# -- modifiers --------------------------------------------------------------------------------


def test_all_four_modifiers() -> None:
    # sia_dc09.md real variant "Nti19:44/id1/ri4/RP"; Honeywell GX: Ntixx:xx/rixx/iduuu/pixxx/EV
    event = one("#1234|Nti19:44/id001/ri04/pi012/RP")
    assert (event.time, event.user_id, event.area, event.peripheral) == ("19:44", "1", "4", "12")
    assert event.modifiers() == {"ti": "19:44", "id": "1", "ri": "4", "pi": "12"}


def test_time_with_seconds_and_the_brief_example() -> None:
    assert one("|Nti11:22/ri3/BA5").time == "11:22"
    assert one("Nti23:59:58/RP").time == "23:59:58"


def test_other_lowercase_modifiers_are_kept_verbatim() -> None:
    event = one("Nda12-25-20/ri1/BA3")
    assert event.extra == (("da", "12-25-20"),)
    assert event.modifiers() == {"da": "12-25-20", "ri": "1"}


def test_slashes_are_optional_between_items() -> None:
    assert one("Nri1CL0").area == "1"
    assert one("Nri1/CL0").area == "1"
    assert one("Nri1//CL0").area == "1"


# -- several events in one block ----------------------------------------------------------------


def test_multi_event_block_keeps_modifiers_for_later_events() -> None:
    """sia_dc09.md: ``Nri1/BA01/BA02`` (AjaxSiaCodec keeps ri)."""
    events = parse_data("#1234|Nri1/BA01/BA02").events
    assert [(e.code, e.address, e.area) for e in events] == [("BA", "1", "1"), ("BA", "2", "1")]


def test_multi_event_block_with_a_second_n() -> None:
    events = parse_data("#1234|Nri01/CL001/NBA12").events
    assert [(e.code, e.address, e.area, e.new) for e in events] == [
        ("CL", "1", "1", True),
        ("BA", "12", "1", True),
    ]


def test_a_modifier_between_events_replaces_the_earlier_one() -> None:
    events = parse_data("Nri1/BA01/ri2/id7/BA02^Back door^/ti10:00/RP").events
    assert [(e.code, e.area, e.user_id, e.time, e.text) for e in events] == [
        ("BA", "1", None, None, None),
        ("BA", "2", "7", None, "Back door"),
        ("RP", "2", "7", "10:00", None),
    ]


def test_unknown_codes_are_events_not_errors() -> None:
    block = parse_data("#1234|Nri1/ZQ5/BA3")
    assert [(e.code, e.known) for e in block.events] == [("ZQ", False), ("BA", True)]
    assert block.processable
    only_unknown = parse_data("#1234|NZQ5/QZ")
    assert not only_unknown.processable  # DC-09: answer DUH


def test_to_dict_holds_only_what_was_sent() -> None:
    assert parse_data("#78919|Nri1/BA012").to_dict() == {
        "account": "78919",
        "account_form": "hash",
        "events": [
            {"code": "BA", "known": True, "new": True, "address": "12", "modifiers": {"ri": "1"}}
        ],
    }


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ("", SiaDataReason.NO_EVENT),
        ("#1234|", SiaDataReason.NO_EVENT),
        ("#1234|Nri1", SiaDataReason.NO_EVENT),
        ("N", SiaDataReason.NO_EVENT),
        ("#12|NBA1", SiaDataReason.ACCOUNT),  # 2 digits
        ("#12G4|NBA1", SiaDataReason.ACCOUNT),  # not hex
        ("#1234NBA1", SiaDataReason.ACCOUNT),  # no '|'
        ("Nri/BA1", SiaDataReason.MODIFIER),
        ("Nti1:22/BA1", SiaDataReason.MODIFIER),
        ("Nti24:00/BA1", SiaDataReason.MODIFIER),
        ("Nti12:60/BA1", SiaDataReason.MODIFIER),
        ("Nr", SiaDataReason.MODIFIER),
        ("Nri" + "1" * 17 + "/BA1", SiaDataReason.MODIFIER),
        ("Nxx" + "1" * 65 + "/BA1", SiaDataReason.MODIFIER),
        ("Nri1/B1", SiaDataReason.CODE),
        ("NBA1/Z", SiaDataReason.CODE),
        ("NBA" + "1" * 17, SiaDataReason.ADDRESS),
        ("NBA1^open", SiaDataReason.TEXT),
        ("N^text^/BA1", SiaDataReason.TEXT),
        ("NBA1^a\x00b^", SiaDataReason.TEXT),
        ("NBA1]", SiaDataReason.CHARACTER),
        ("NBA1 é", SiaDataReason.CHARACTER),
        ("1BA1", SiaDataReason.CHARACTER),
        ("Nri1 BA1", SiaDataReason.CHARACTER),
        ("N" + "BA1/" * 1024, SiaDataReason.TOO_LONG),
        (b"NBA1^\x81\x8d^", SiaDataReason.ENCODING),  # undefined in UTF-8 and Windows-1252
        (b"N" + b"BA1/" * 1024, SiaDataReason.TOO_LONG),
    ],
)
def test_errors_name_their_reason_in_one_line(block: str | bytes, reason: SiaDataReason) -> None:
    with pytest.raises(SiaDataError) as caught:
        parse_data(block)
    assert caught.value.reason is reason
    assert isinstance(caught.value, CodecError)
    assert str(caught.value) and "\n" not in str(caught.value)


def test_the_longest_block_is_accepted() -> None:
    block = "N" + "RP/" * ((MAX_BLOCK_CHARS - 1) // 3)
    assert len(block) <= MAX_BLOCK_CHARS
    assert len(parse_data(block).events) == (MAX_BLOCK_CHARS - 1) // 3


# -- fuzzing ----------------------------------------------------------------------------------

CTX = DecodeContext(now=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
VALID = sorted({row[0] for row in REAL} | {"#1234|Nri01/CL001/NBA12", "|Nti11:22/ri3/BA5"})


def _parse_or_error(block: str | bytes) -> SiaBlock | None:
    """Only SiaDataError may escape; whatever parses also maps to valid events."""
    try:
        parsed = parse_data(block)
    except SiaDataError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    assert parsed.events
    events = sia_to_events("1234", list(parsed.events), CTX, occurred_at=None, raw=None)
    assert len(events) == len(parsed.events)
    return parsed


@settings(max_examples=500)
@given(st.binary(max_size=120))
@example(b"")
@example(b"\x00" * 16)
@example("Ｎｒｉ１/ＢＡ１".encode())  # full-width letters and digits
@example("Nri١/BA١".encode())  # Arabic-Indic digits: not DC-03 digits
def test_random_bytes(data: bytes) -> None:
    _parse_or_error(data)


@settings(max_examples=800)
@given(st.text(alphabet="#|N/^ritpdax0123456789:BAHLCOPRZQ-. \x00é]", max_size=60))
def test_random_near_grammar_text(text: str) -> None:
    _parse_or_error(text)


_MUTATION = st.tuples(
    st.sampled_from(["replace", "insert", "delete"]),
    st.integers(0, 40),
    st.characters(codec="utf-8"),
)


@settings(max_examples=500)
@given(st.sampled_from(VALID), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_real_blocks(block: str, mutations: list[tuple[str, int, str]]) -> None:
    chars = list(block)
    for op, position, char in mutations:
        position = min(position, len(chars))
        if op == "replace" and position < len(chars):
            chars[position] = char
        elif op == "insert":
            chars.insert(position, char)
        elif op == "delete" and position < len(chars):
            del chars[position]
    _parse_or_error("".join(chars))


_ITEM = st.one_of(
    st.tuples(st.sampled_from(["ri", "pi", "id"]), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
    st.tuples(st.just("ti"), st.from_regex(r"([01][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True)),
)
_EVENT = st.tuples(
    st.sampled_from(sorted(CODES)), st.from_regex(r"[0-9]{0,4}", fullmatch=True), st.booleans()
)


@given(
    st.from_regex(r"[0-9A-F]{3,16}", fullmatch=True),
    st.lists(st.tuples(st.lists(_ITEM, max_size=3), _EVENT), min_size=1, max_size=5),
)
def test_any_well_formed_block_reads_back(
    account: str, items: list[tuple[list[tuple[str, str]], tuple[str, str, bool]]]
) -> None:
    parts: list[str] = []
    expected: list[tuple[str, str | None]] = []
    for modifiers, (code, address, flag) in items:
        parts.extend(name + value for name, value in modifiers)
        parts.append(("N" if flag else "") + code + address)
        expected.append((code, address.lstrip("0") or "0" if address else None))
    block = parse_data(f"#{account}|N" + "/".join(parts))
    assert block.account == account
    assert [(e.code, e.address) for e in block.events] == expected
    assert all(e.known and e.new for e in block.events)
