"""The codec contract: how a plugin offers its sans-IO decoder to ``anfang decode`` and the kit.

A codec turns one frame (bytes) into the protocol's own fields and the canonical events they mean,
with no sockets, no asyncio and one error type, so the same function serves the live receiver,
``anfang decode``, the fuzz tests and the conformance kit. A plugin declares its codecs as
``codecs = (CodecSpec(...),)`` on its Plugin class or returns them from the ``anfang_codecs`` hook.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.model.address import Address, check_segment
from gateway.model.common import utcnow
from gateway.model.event import Event

CODEC_NAME_PATTERN = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
_CODEC_NAME = re.compile(CODEC_NAME_PATTERN)

DEFAULT_SITE = "site"
"""The site in sources when no config says otherwise (``anfang decode`` without ``-c``)."""

Addresser = Callable[[str, "str | None"], str]
"""``(device, point) -> address`` from a codec's local ids, e.g. ``("acct-1234", "zone-5")``."""


class CodecError(ValueError):
    """Base of every codec's own error type; ``str(exc)`` is one line naming what is wrong."""


@dataclass(frozen=True)
class DecodeContext:
    """What a decoder needs besides the bytes: where the frame came from and when.

    Sources follow the default addressing rule ``<site>/<device>[/<point>]`` unless ``addresser``
    is given (a receiver that maps accounts to sites, or unknown accounts to ``unknown-<acct>``).
    """

    site: str = DEFAULT_SITE
    now: datetime = field(default_factory=utcnow)
    addresser: Addresser | None = None

    def __post_init__(self) -> None:
        check_segment(self.site, "site")
        if self.now.tzinfo is None:
            raise ValueError("DecodeContext.now must be timezone-aware")

    def address(self, device: str, point: str | None = None) -> str:
        """The source address for a device (and point) named by the codec's local ids."""
        if self.addresser is not None:
            return self.addresser(device, point)
        return _address(self.site, device, point)


@functools.lru_cache(maxsize=65536)
def _address(site: str, device: str, point: str | None) -> str:
    """Checked once per distinct address: a receiver sees the same panels and zones all day."""
    return str(Address(site, device, point))


@dataclass(frozen=True)
class Decoded:
    """One decoded frame: the protocol's fields as JSON-ready values, and the canonical events."""

    message: dict[str, Any]
    events: list[Event]

    def to_json(self) -> dict[str, Any]:
        """The shape ``anfang decode`` prints: ``{"message": ..., "events": [...]}``."""
        return {
            "message": self.message,
            "events": [event.model_dump(mode="json") for event in self.events],
        }


Decoder = Callable[[bytes, DecodeContext], Decoded]
"""One frame in, its fields and canonical events out; raises the codec's error type."""


@dataclass(frozen=True)
class CodecSpec:
    """A decoder as offered to tools: a unique dashed name, what it reads, and its error type.

    ``decode`` raises ``error`` (a :class:`CodecError` subclass by convention) for every bad
    frame and nothing else; ``vectors`` is the conformance vector file the codec is tested
    against, when the distribution ships one.

    ``configured``, when given, builds the decoder an instance of the codec's plugin runs with
    its validated config (keys, vendor variants, account-to-site mapping) and the site id:
    ``anfang decode CODEC -c anfang.yaml`` then decodes a captured frame as that receiver
    would. Same contract as ``decode``.
    """

    name: str
    description: str
    decode: Decoder
    error: type[Exception]
    vectors: Path | None = None
    configured: Callable[[Any, str], Decoder] | None = None

    def __post_init__(self) -> None:
        if not _CODEC_NAME.fullmatch(self.name):
            raise ValueError(
                f"codec name {self.name!r} must be lower-case words joined by '-' "
                "(e.g. 'contact-id')"
            )
        if not (isinstance(self.error, type) and issubclass(self.error, Exception)):
            raise TypeError(f"codec {self.name}: error must be an exception class")
