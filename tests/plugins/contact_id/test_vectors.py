"""Every Contact ID vector in conformance/vectors/contact_id.json, each at the level it belongs to.

* 16-digit messages with a checksum: through the codec (hex and DTMF notation), fields as stated.
* The spandsp round-trip case with message type 56: only the framing and checksum are Contact
  ID's; the codec refuses the message type, by name.
* The mutated checksum: refused with expected vs got; no kissoff.
* Asterisk fixtures carry ``_`` for the checksum: refused as sent, then completed with our
  checksum (which must equal the digit the vector notes) and decoded.
* The serial receiver line (``AL...##``) is another codec's framing: refused here; its 15 digits,
  completed, carry the stated fields.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from plugins.contact_id.checksum import checksum_digit
from plugins.contact_id.codec import Notation, parse, split
from plugins.contact_id.errors import ContactIdError
from plugins.contact_id.hooks import CODEC, CODEC_DTMF
from tests.plugins.contact_id.helpers import ctx, vector_id, vectors

VECTORS = vectors()
FIELDS = ("account", "message_type", "qualifier", "event_code", "group", "zone_or_user", "checksum")


def _kind(vector: dict[str, Any]) -> str:
    value, expected = vector["input"], vector["expected"]
    text = value["hex"] if isinstance(value, dict) else value
    if text.startswith("AL"):
        return "serial"
    if text.endswith("_"):
        return "placeholder"
    if expected.get("valid_checksum") is False:
        return "bad_checksum"
    if expected.get("message_type") not in ("18", "98"):
        return "other_format"
    return "message"


def _of(kind: str) -> list[Any]:
    return [pytest.param(v, id=vector_id(v)) for v in VECTORS if _kind(v) == kind]


def _fields(text: str, notation: Notation = Notation.HEX) -> dict[str, str]:
    m = parse(text, notation).to_dict()
    return {**{k: m[k] for k in FIELDS if k in m}, "zone_or_user": m["ccc"]}


def test_every_vector_is_covered() -> None:
    kinds = [_kind(v) for v in VECTORS]
    assert set(kinds) <= {"message", "other_format", "bad_checksum", "placeholder", "serial"}
    assert kinds.count("message") >= 5 and kinds.count("placeholder") >= 4
    assert all(v["source"] for v in VECTORS)


@pytest.mark.parametrize("vector", _of("message"))
def test_message_decodes_as_stated(vector: dict[str, Any]) -> None:
    expected = {k: vector["expected"][k] for k in FIELDS}
    value = vector["input"]
    if isinstance(value, dict):
        assert _fields(value["hex"]) == expected
        assert _fields(value["dtmf"], Notation.DTMF) == expected
        assert CODEC_DTMF.decode(value["dtmf"].encode(), ctx()).message["checksum_ok"] is True
    else:
        assert _fields(value) == expected
    assert vector["verified_here"]["checksum_ok"] is True
    decoded = CODEC.decode(vector_id(vector).encode(), ctx())
    assert decoded.message["checksum_ok"] is True and len(decoded.events) == 1


@pytest.mark.parametrize("vector", _of("other_format"))
def test_other_message_type_has_a_good_checksum_but_is_refused(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    for text, notation in (
        (vector["input"]["hex"], Notation.HEX),
        (vector["input"]["dtmf"], Notation.DTMF),
    ):
        frame = split(text, notation)
        assert frame.checksum_ok is expected["valid_checksum"] is True
        assert (frame.account, frame.message_type, frame.qualifier, frame.event_code) == (
            expected["account"],
            expected["message_type"],
            expected["qualifier"],
            expected["event_code"],
        )
        assert (frame.group, frame.ccc, frame.checksum) == (
            expected["group"],
            expected["zone_or_user"],
            expected["checksum"],
        )
        with pytest.raises(ContactIdError, match=f"message type {expected['message_type']}"):
            parse(text, notation)


@pytest.mark.parametrize("vector", _of("bad_checksum"))
def test_bad_checksum_is_refused_with_expected_and_got(vector: dict[str, Any]) -> None:
    text = vector["input"]
    right = checksum_digit(text[:15])
    with pytest.raises(ContactIdError, match=f"expected {right}, got {text[15]}"):
        CODEC.decode(text.encode(), ctx())
    assert parse(text, verify_checksum=False).checksum_ok is vector["verified_here"]["checksum_ok"]


ERRATA = {
    # input -> (field, value the digits carry, why the vector's own value is not used)
    "987618333300200_": (
        "zone_or_user",
        200,
        "the vector says 2, but its digits put 200 in CCC (positions 13-15, GG is 00); the cited "
        "parser reads int(code[12:15]) = 200 too",
    ),
}

PLACEHOLDER_MEANING = {
    # (event code, qualifier) -> (kind, phase) for the Asterisk fixtures' stated text
    ("401", "1"): ("arming.disarmed", "status"),  # "System disarmed normally"
    ("130", "1"): ("intrusion", "alarm"),  # "Burglary alarm in zone 1"
    ("333", "3"): ("trouble.system", "restore"),  # "Expansion module failure, restored"
    ("570", "3"): ("zone.unbypassed", "status"),  # "Zone unbypass -> bypass=no"
}


@pytest.mark.parametrize("vector", _of("placeholder"))
def test_placeholder_checksum_completed_and_decoded(vector: dict[str, Any]) -> None:
    text, expected = vector["input"], dict(vector["expected"])
    if text in ERRATA:
        field, value, _why = ERRATA[text]
        expected[field] = value
    with pytest.raises(ContactIdError, match="'_' at position 16"):
        CODEC.decode(text.encode(), ctx())
    noted = re.search(r"checksum digit would be (\w)", vector["verified_here"]["note"])
    assert noted is not None
    completed = text[:15] + checksum_digit(text[:15])
    assert completed[15] == noted.group(1)
    decoded = CODEC.decode(completed.encode(), ctx())
    message = decoded.message
    assert int(message["event_code"]) == expected["event_code"]
    assert int(message["qualifier"]) == expected["qualifier"]
    assert int(message["ccc"]) == expected.get("zone_or_user", int(message["ccc"]))
    assert int(message["group"]) == expected.get("partition", int(message["group"]))
    assert int(message["account"]) == expected.get("account", int(message["account"]))
    (event,) = decoded.events
    meaning = PLACEHOLDER_MEANING[(message["event_code"], message["qualifier"])]
    assert (event.kind, event.phase.value) == meaning


@pytest.mark.parametrize("vector", _of("serial"))
def test_serial_receiver_line_is_another_framing(vector: dict[str, Any]) -> None:
    text, expected = vector["input"], vector["expected"]
    with pytest.raises(ContactIdError, match="16 digits, got 19"):
        CODEC.decode(text.encode(), ctx())
    body = text.strip()[2:-2]  # AL <15 digits> ## (no checksum on this line)
    assert len(body) == 15
    message = parse(body + checksum_digit(body)).to_dict()
    assert message["account"] == expected["account"]
    assert message["message_type"] == expected["message_type"]
    assert int(message["qualifier"]) == expected["qualifier"]
    assert message["event_code"] == expected["event_code"]
    assert message["group"] == expected["area"]
    assert message["ccc"] == expected["zone_or_user"]
