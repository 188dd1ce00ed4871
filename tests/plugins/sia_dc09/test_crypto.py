"""Keys, DC-09 padding and AES-CBC with a zero IV, against the published decrypt vector."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from plugins.sia_dc09.dc09.crypto import (
    PAD_FORBIDDEN,
    Key,
    decrypt,
    encrypt,
    pad_length,
    random_pad,
    strip_pad,
)
from plugins.sia_dc09.dc09.errors import Dc09Error, Reason
from tests.plugins.sia_dc09.helpers import ASCII_KEYS, kind, vectors

VECTOR = next(v for v in vectors() if kind(v) == "encrypted" and "plaintext" in v["expected"])


def test_hex_and_ascii_keys_are_never_guessed() -> None:
    text = "00112233445566778899AABBCCDDEEFF"  # valid both ways
    as_hex, as_ascii = Key.from_hex(text), Key.from_ascii(text)
    assert as_hex.bits == 128 and as_hex.secret == bytes.fromhex(text)
    assert as_ascii.bits == 256 and as_ascii.secret == text.encode()


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_key_sizes(bits: int) -> None:
    assert Key.from_ascii("k" * (bits // 8)).bits == bits
    assert Key.from_hex("ab" * (bits // 8)).bits == bits


@pytest.mark.parametrize(
    "build",
    [
        lambda: Key.from_hex("00" * 15),
        lambda: Key.from_hex("0g" * 16),
        lambda: Key.from_hex("0" * 31),
        lambda: Key.from_ascii("A" * 20),
        lambda: Key.from_ascii("Ä" * 16),
        lambda: Key(b"\x00" * 33),
    ],
)
def test_bad_keys(build: object) -> None:
    with pytest.raises(Dc09Error) as caught:
        build()  # type: ignore[operator]
    assert caught.value.reason is Reason.KEY


def test_repr_hides_the_secret() -> None:
    key = Key.from_ascii(ASCII_KEYS[128])
    assert "AAAA" not in repr(key) and "41" not in repr(key)
    assert repr(key) == "Key(<AES-128>)"


def test_the_published_vector_decrypts() -> None:
    """``05BB0076"*SIA-DCS"…`` with ASCII key AAAA… (pysiaalarm-made, AjaxSiaCodec's test)."""
    hex_part = VECTOR["input"].split("[", 1)[1]
    plaintext = decrypt(Key.from_ascii(VECTOR["key_ascii"]), hex_part)
    assert plaintext.decode() == VECTOR["expected"]["plaintext"]
    rest, bar_missing = strip_pad(plaintext)
    assert rest == b"Nri1/WA000]_16:04:02,07-09-2020" and not bar_missing


@pytest.mark.parametrize(("body", "pad"), [(0, 15), (14, 1), (15, 16), (31, 16), (30, 1)])
def test_pad_length(body: int, pad: int) -> None:
    """The region pad + ``|`` + body is a multiple of 16; already a multiple: 16 more."""
    assert pad_length(body) == pad
    assert (pad + 1 + body) % 16 == 0


def test_random_pad_avoids_the_delimiters() -> None:
    pad = b"".join(random_pad(16) for _ in range(500))
    assert len(pad) == 8000 and not PAD_FORBIDDEN & set(pad)
    assert len(set(pad)) > 200  # pseudo-random over 0-255, not a constant filler


@pytest.mark.parametrize("bits", [128, 192, 256])
@given(body=st.binary(max_size=100))
def test_round_trip_with_an_independent_cipher(bits: int, body: bytes) -> None:
    key = Key.from_ascii(ASCII_KEYS[bits])
    text = encrypt(key, body)
    assert text == text.upper() and len(text) % 32 == 0
    decryptor = Cipher(algorithms.AES(key.secret), modes.CBC(bytes(16))).decryptor()
    plaintext = decryptor.update(bytes.fromhex(text)) + decryptor.finalize()
    pad, bar, rest = plaintext.partition(b"|")
    assert rest == body and bar == b"|" and 1 <= len(pad) <= 16
    assert decrypt(key, text) == plaintext and strip_pad(plaintext) == (body, False)


def test_a_chosen_pad_is_used_and_checked() -> None:
    key = Key.from_ascii(ASCII_KEYS[128])
    text = encrypt(key, b"]_16:04:02,07-09-2020", pad=lambda n: b"0" * n)
    assert decrypt(key, text) == b"0000000000|]_16:04:02,07-09-2020"
    with pytest.raises(Dc09Error, match="without"):
        encrypt(key, b"x", pad=lambda n: b"|" * n)
    with pytest.raises(Dc09Error, match="14 bytes"):
        encrypt(key, b"x", pad=lambda n: b"0")


def test_pad_without_bar_only_when_allowed() -> None:
    """pysiaalarm's ``*NULL`` pads with ``p`` and writes no ``|``."""
    plaintext = b"ppppppppppp]_18:24:52,07-05-2020"
    with pytest.raises(Dc09Error, match="bad key or corrupt ciphertext") as caught:
        strip_pad(plaintext)
    assert caught.value.reason is Reason.KEY
    assert strip_pad(plaintext, bar_optional=True) == (b"]_18:24:52,07-05-2020", True)
    assert strip_pad(b"00|]_x", bar_optional=True) == (b"]_x", False)


@pytest.mark.parametrize(
    ("text", "match"), [("", "not hex"), ("XY" * 16, "not hex"), ("00" * 15, "16-byte")]
)
def test_ciphertext_shape(text: str, match: str) -> None:
    with pytest.raises(Dc09Error, match=match) as caught:
        decrypt(Key.from_ascii(ASCII_KEYS[128]), text)
    assert caught.value.reason is Reason.FORMAT
