"""pysiaalarm 3.2.2 as an independent decoder of our frames, and of its frames by ours.

pysiaalarm's ``SIAEvent.from_line`` (what its server calls per received line, LF/CR stripped)
parses the header, checks the CRC with its own code (``valid_message``), decrypts with the
account key's ASCII bytes, and maps ADM-CID to SIA codes. It never checks the length field, so
the length is asserted here independently. Its ADM-CID pattern takes at most one extended-data
block, so ADM-CID frames here carry one.

Its *responses* are not DC-09 (peers.md §6: ``None`` as receiver, ``L0R0`` in NAK, a ``*ACK``
padded with ``0`` and no ``|``): they are only decoded here, never copied.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysiaalarm.account import SIAAccount
from pysiaalarm.event import NAKEvent, SIAEvent

from plugins.sia_dc09.dc09 import (
    Dc09Error,
    Key,
    Reason,
    Token,
    build_frame,
    crc16_arc,
    parse_frame,
)
from plugins.sia_dc09.dc09.crypto import PAD_FORBIDDEN, decrypt, strip_pad
from tests.plugins.sia_dc09.helpers import ASCII_KEYS, NOW

ACCOUNT = "1234"
SIA_CASES = [  # (data block, pysiaalarm code, ri, address)
    ("#1234|Nri1/BA012", "BA", "1", "012"),
    ("#1234|Nri2/CL501", "CL", "2", "501"),
    ("#1234|NRP", "RP", None, None),
]
ADM_CASES = [  # (data block, code after pysiaalarm's ADM mapping, zone)
    ("#1234|1130 01 015", "BA", "015"),
    ("#1234|3401 01 007", "CL", "007"),
    ("#1234|1602 00 000", "RP", "000"),
]


def pysia(frame: bytes, key_text: str | None, account: str = ACCOUNT) -> SIAEvent:
    """pysiaalarm's reading of one frame (its server strips LF/CR the same way)."""
    accounts = {account: SIAAccount(account, key_text, allowed_timeband=None)}
    event = SIAEvent.from_line(frame.decode("ascii").strip(), accounts)
    assert isinstance(event, SIAEvent)
    return event


def assert_length_field(frame: bytes) -> None:
    """LF + CRC(4) + LLLL + region + CR: LLLL is the region's byte count in hex."""
    assert frame[5:9] == f"{len(frame) - 10:04X}".encode()


def common(event: SIAEvent, frame: bytes, receiver: str | None, line: str, when: datetime) -> None:
    assert event.valid_message, (event.msg_crc, event.calc_crc)  # its CRC agrees with ours
    assert event.account == ACCOUNT and event.sequence == "0007"
    assert event.receiver == (f"R{receiver}" if receiver else None)
    assert event.line == f"L{line}"
    assert event.timestamp == when
    assert_length_field(frame)


def ours(frame: bytes, key: Key | None) -> Any:
    return parse_frame(frame, keys=lambda account: key)


KEYS = [None, 128, 192, 256]
PLACES = [(None, "0"), ("12", "3"), ("ABCDEF", "123456")]
WHEN = NOW.replace(year=2025)


@pytest.mark.parametrize("bits", KEYS)
@pytest.mark.parametrize(("receiver", "line"), PLACES)
@pytest.mark.parametrize("case", SIA_CASES, ids=[c[0] for c in SIA_CASES])
@pytest.mark.parametrize("xdata", [None, {"X": "012W34.1", "Y": "045N12.2", "M": "0026B9E4268B"}])
def test_sia_dcs(
    bits: int | None,
    receiver: str | None,
    line: str,
    case: tuple[str, str, str | None, str | None],
    xdata: dict[str, str] | None,
) -> None:
    data, code, ri, address = case
    key_text = ASCII_KEYS[bits] if bits else None
    key = Key.from_ascii(key_text) if key_text else None
    frame = build_frame(
        "SIA-DCS",
        7,
        ACCOUNT,
        data,
        receiver=receiver,
        line=line,
        xdata=xdata,
        timestamp=WHEN,
        key=key,
    )
    event = pysia(frame, key_text)
    common(event, frame, receiver, line, WHEN)
    assert event.encrypted is (key is not None)
    assert (event.code, event.ri, event.message) == (code, ri, address)
    got = {x.identifier: x.value for x in event.extended_data or []}
    assert got == (xdata or {})
    m = ours(frame, key)
    assert (m.account, m.timestamp, dict(m.xdata)) == (event.account, event.timestamp, got)


@pytest.mark.parametrize("bits", KEYS)
@pytest.mark.parametrize(("receiver", "line"), PLACES)
@pytest.mark.parametrize("case", ADM_CASES, ids=[c[0] for c in ADM_CASES])
@pytest.mark.parametrize("xdata", [None, {"M": "0026B9E4268B"}])
def test_adm_cid(
    bits: int | None,
    receiver: str | None,
    line: str,
    case: tuple[str, str, str],
    xdata: dict[str, str] | None,
) -> None:
    data, code, zone = case
    key_text = ASCII_KEYS[bits] if bits else None
    key = Key.from_ascii(key_text) if key_text else None
    frame = build_frame(
        "ADM-CID",
        7,
        ACCOUNT,
        data,
        receiver=receiver,
        line=line,
        xdata=xdata,
        timestamp=WHEN,
        key=key,
    )
    event = pysia(frame, key_text)
    common(event, frame, receiver, line, WHEN)
    assert (event.code, event.ri, event.partition) == (code, zone, data[-6:-4])
    m = ours(frame, key)
    assert m.body == f"{event.event_qualifier}{event.event_type} {event.partition} {event.ri}"


@pytest.mark.parametrize("bits", KEYS)
def test_null(bits: int | None) -> None:
    key_text = ASCII_KEYS[bits] if bits else None
    key = Key.from_ascii(key_text) if key_text else None
    frame = build_frame(Token.NULL, 7, ACCOUNT, timestamp=WHEN, key=key)
    event = pysia(frame, key_text)
    common(event, frame, None, "0", WHEN)
    assert event.code == "RP"  # pysiaalarm's name for a link test
    assert ours(frame, key).data == ""


@settings(max_examples=150, deadline=None)
@given(
    account=st.text("0123456789ABCDEF", min_size=3, max_size=16),
    seq=st.integers(0, 9999),
    code=st.sampled_from(["BA", "BR", "FA", "OP", "CL", "TA", "WA", "YT", "RP"]),
    address=st.text("0123456789", min_size=1, max_size=4),
    ri=st.integers(0, 99),
    seconds=st.integers(0, 3 * 10**8),
    bits=st.sampled_from(KEYS),
    pad=st.binary(min_size=16, max_size=16).map(
        lambda b: bytes(x for x in b if x not in PAD_FORBIDDEN) or b"\x00"
    ),
)
def test_any_event_reads_the_same_in_pysiaalarm(
    account: str,
    seq: int,
    code: str,
    address: str,
    ri: int,
    seconds: int,
    bits: int | None,
    pad: bytes,
) -> None:
    """Random accounts, codes, times and random pad bytes (0-255 without ``|[]``)."""
    key_text = ASCII_KEYS[bits] if bits else None
    key = Key.from_ascii(key_text) if key_text else None
    when = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    data = f"#{account}|Nri{ri}/{code}{address}"
    frame = build_frame(
        "SIA-DCS",
        seq,
        account,
        data,
        timestamp=when,
        key=key,
        pad=lambda n: (pad * n)[:n],
    )
    event = pysia(frame, key_text, account)
    assert event.valid_message and event.account == account
    assert event.sequence == f"{seq:04d}" and event.timestamp == when
    assert (event.code, event.ri, event.message) == (code, str(ri), address)
    assert_length_field(frame)
    m = ours(frame, key)
    assert (m.account, m.seq, m.timestamp, m.body) == (
        account,
        event.sequence,
        when,
        data[len(account) + 2 :],
    )


# ---- pysiaalarm's frames, decoded by ours -------------------------------------------------


def test_pysiaalarm_ack_and_star_ack() -> None:
    """Its ACK framing checks out with our CRC; its *ACK (zero pad, no ``|``) decrypts with
    ``strip_pad(bar_optional=True)``, the tolerance the notes ask for."""
    key_text = ASCII_KEYS[128]
    key = Key.from_ascii(key_text)
    now = datetime.now(UTC).replace(microsecond=0)
    for k in (None, key):
        frame = build_frame(
            "SIA-DCS", 7, ACCOUNT, "#1234|Nri1/BA012", receiver="1", timestamp=now, key=k
        )
        response = pysia(frame, key_text if k else None).create_response()
        assert response[:1] == b"\n" and response[-1:] == b"\r"
        region = response[9:-1]
        assert response[1:5] == f"{crc16_arc(region):04X}".encode()
        assert_length_field(response)
        if k is None:
            assert region == b'"ACK"0007R1L0#1234[]'  # the same bytes as DC-09's ACK
            continue
        head, _, cipher = region.partition(b"[")
        assert head == b'"*ACK"0007R1L0#1234'
        plaintext = decrypt(key, cipher.decode())
        assert b"|" not in plaintext
        with pytest.raises(Dc09Error) as caught:
            strip_pad(plaintext)
        assert caught.value.reason is Reason.KEY
        rest, bar_missing = strip_pad(plaintext, bar_optional=True)
        assert bar_missing and rest.startswith(b"]_")
        stamp = datetime.strptime(rest[2:].decode(), "%H:%M:%S,%m-%d-%Y").replace(tzinfo=UTC)
        assert abs(stamp - now) < timedelta(minutes=1)


def test_pysiaalarm_nak_is_framed_but_not_dc09s_body() -> None:
    """peers.md: its NAK writes ``L0R0`` (wrong order); ours is ``R0L0`` — CRC/length agree."""
    response = NAKEvent().create_response()
    region = response[9:-1]
    assert region.startswith(b'"NAK"0000L0R0A0[]_')
    assert response[1:5] == f"{crc16_arc(region):04X}".encode()
    assert_length_field(response)


def test_pysiaalarm_fixture_with_a_wrong_length() -> None:
    """peers.md §6 lists this pysiaalarm fixture: "len says 0x78, body is 0x75; key unknown".
    pysiaalarm never checks the length; we refuse it for exactly that."""
    frame = (
        b'60AB0078"*SIA-DCS"5994L0#AAA[5AB718E008C616BF16F6468033A11326B0F7546CAB230910BCA10E4DEBA4'
        b"2283C436E4F8EFF50931070DDE36D5BB5F0C"
    )
    with pytest.raises(Dc09Error, match="0075") as caught:
        parse_frame(frame)
    assert caught.value.reason is Reason.LENGTH
    assert f"{crc16_arc(frame[8:]):04X}" == "60AB"
