"""DC-09 encryption: AES-CBC with a zero IV over ``pad | DATA ] [xDATA]... _timestamp``.

DC-09 rules implemented here:

* "AES-CBC, key 128/192/256 bit, IV = 16 zero bytes, no PKCS padding."
* "Pad: pseudo-random bytes (0–255) excluding ``|``, ``[``, ``]``, so that the region is a
  multiple of 16; if already a multiple of 16, add 16 pad bytes. The ``|`` after the pad is
  always present in encrypted messages."
* "Decoder: decrypt, then take text after the first ``|``." pysiaalarm pads with ``0`` and, in
  its ``*NULL`` test frame and its own ``*ACK``, writes no ``|`` at all (``ppp…]_ts``), so a
  caller may also accept "pad then ``]``" (:func:`strip_pad` with ``bar_optional``).
* The ciphertext travels as upper-case hex, two characters per byte.

Keys are never guessed from their text: a 32-character string is a valid 128-bit hex key and a
valid 256-bit ASCII key, so configuration says which with :meth:`Key.from_hex` or
:meth:`Key.from_ascii` (pysiaalarm and Ajax use the ASCII bytes; ioBroker and DC09gen hex).
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from plugins.sia_dc09.dc09.errors import Dc09Error, Reason

BLOCK = 16
IV = bytes(BLOCK)
KEY_SIZES = (16, 24, 32)
PAD_FORBIDDEN = frozenset(b"|[]")
"""Bytes a pad never contains: the ``|`` that ends it and the brackets that delimit blocks."""

PadSource = Callable[[int], bytes]
"""``n -> n pad bytes``; the default draws them from ``os.urandom``."""

_HEX = frozenset(string.hexdigits)
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


@dataclass(frozen=True, slots=True, repr=False)
class Key:
    """An AES key of 16, 24 or 32 bytes; build it with ``from_hex`` or ``from_ascii``."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) not in KEY_SIZES:
            raise Dc09Error(
                Reason.KEY,
                f"an AES key is 16, 24 or 32 bytes (128/192/256 bit), got {len(self.secret)}",
            )

    @classmethod
    def from_hex(cls, text: str) -> Key:
        """32, 48 or 64 hex digits (ioBroker ``hex: true``, DC09gen "0-9A-F")."""
        if len(text) % 2 or not set(text) <= _HEX:
            raise Dc09Error(Reason.KEY, "a hex key is 32, 48 or 64 hex digits")
        return cls(bytes.fromhex(text))

    @classmethod
    def from_ascii(cls, text: str) -> Key:
        """16, 24 or 32 printable ASCII characters used as the key bytes (pysiaalarm, Ajax)."""
        if not set(text) <= _PRINTABLE:
            raise Dc09Error(Reason.KEY, "an ASCII key is 16, 24 or 32 printable ASCII characters")
        return cls(text.encode("ascii"))

    @property
    def bits(self) -> int:
        return len(self.secret) * 8

    def __repr__(self) -> str:  # never the secret: keys end up in logs via config dumps
        return f"Key(<AES-{self.bits}>)"


def _cipher(key: Key) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key.secret), modes.CBC(IV))


def random_pad(count: int) -> bytes:
    """``count`` pseudo-random bytes with no ``|``, ``[`` or ``]`` (DC-09's pad)."""
    out = bytearray()
    while len(out) < count:
        out.extend(b for b in os.urandom(count) if b not in PAD_FORBIDDEN)
    return bytes(out[:count])


def pad_length(body_length: int) -> int:
    """Pad bytes before ``|`` + a body of ``body_length`` bytes: 1-16, never 0 (a region that
    is already a multiple of 16 gets 16 more)."""
    return BLOCK - (body_length + 1) % BLOCK


def encrypt(key: Key, body: bytes, pad: PadSource = random_pad) -> str:
    """Upper-case hex of AES-CBC(pad + ``|`` + body), the text sent after ``[``."""
    count = pad_length(len(body))
    filler = pad(count)
    if len(filler) != count or PAD_FORBIDDEN & set(filler):
        raise Dc09Error(Reason.FORMAT, f"a pad is {count} bytes without '|', '[' or ']'")
    encryptor = _cipher(key).encryptor()
    ciphertext = encryptor.update(filler + b"|" + body) + encryptor.finalize()
    return ciphertext.hex().upper()


def decrypt(key: Key, text: str) -> bytes:
    """The plaintext of the hex text after ``[`` (pad included)."""
    if not text or not set(text) <= _HEX:
        raise Dc09Error(Reason.FORMAT, "the encrypted part is not hex")
    if len(text) % (2 * BLOCK):
        raise Dc09Error(
            Reason.FORMAT,
            f"the encrypted part is {len(text)} hex digits, not whole 16-byte AES blocks",
        )
    decryptor = _cipher(key).decryptor()
    return decryptor.update(bytes.fromhex(text)) + decryptor.finalize()


def strip_pad(plaintext: bytes, *, bar_optional: bool = False) -> tuple[bytes, bool]:
    """The plaintext after the pad, and whether the pad ended at ``]`` instead of ``|``.

    "Take text after the first ``|``"; with ``bar_optional`` a plaintext with no ``|`` keeps
    everything from its first ``]`` (pysiaalarm's ``ppp…]_ts``: empty data, then the rest).
    """
    bar = plaintext.find(b"|")
    if bar >= 0:
        return plaintext[bar + 1 :], False
    bracket = plaintext.find(b"]") if bar_optional else -1
    if bracket >= 0:
        return plaintext[bracket:], True
    raise Dc09Error(Reason.KEY, "bad key or corrupt ciphertext: no '|' ends the pad")
