"""Addresses: the stable path of every site, device and point, and its GB/T 28181 code.

A path is ``site/device[/point]`` (e.g. ``hq/panel-1/zone-12``); an area is addressed as
``site/area-name`` in the area namespace. Each segment is safe as a URL path part, an MQTT topic
level and a file name, so connectors never need to escape it.

The GB/T 28181 code is 20 digits, ``CCCCCCCC II TTT N SSSSSS`` (GB/T 28181-2016 Annex D): centre
8 (province, city, district, grass-roots unit), industry 2, type 3, network 1, serial 6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

SEGMENT_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"
_SEGMENT = re.compile(SEGMENT_PATTERN)
ADDRESS_PATTERN = rf"^{SEGMENT_PATTERN}(/{SEGMENT_PATTERN}){{1,2}}$"
_ADDRESS = re.compile(ADDRESS_PATTERN)
_SITE_OR_ADDRESS = re.compile(rf"^{SEGMENT_PATTERN}(/{SEGMENT_PATTERN}){{0,2}}$")


class AddressError(ValueError):
    """An address or GB code that does not follow the rules; the message says which rule."""


def check_segment(segment: str, what: str = "segment") -> str:
    """Return ``segment`` if it is a valid path segment, else raise AddressError."""
    if not _SEGMENT.fullmatch(segment):
        raise AddressError(
            f"{what} {segment!r} must be 1-64 characters of letters, digits, '_', '.', ':' "
            "or '-', starting with a letter or digit"
        )
    return segment


def _check_address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise AddressError(
            f"address {value!r} must be 'site/device' or 'site/device/point', each part 1-64 "
            "characters of letters, digits, '_', '.', ':' or '-'"
        )
    return value


def _check_site_or_address(value: str) -> str:
    if not _SITE_OR_ADDRESS.fullmatch(value):
        raise AddressError(f"{value!r} is not a site, 'site/device' or 'site/device/point' path")
    return value


AddressStr = Annotated[str, AfterValidator(_check_address)]
"""A device or point address, validated (``site/device`` or ``site/device/point``)."""

TargetStr = Annotated[str, AfterValidator(_check_site_or_address)]
"""A command target: a site, an area (``site/area``), a device or a point."""


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address; ``str(address)`` gives the path back."""

    site: str
    device: str
    point: str | None = None

    @classmethod
    def parse(cls, value: str) -> Address:
        _check_address(value)
        parts = value.split("/")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __post_init__(self) -> None:
        check_segment(self.site, "site")
        check_segment(self.device, "device")
        if self.point is not None:
            check_segment(self.point, "point")

    def __str__(self) -> str:
        base = f"{self.site}/{self.device}"
        return base if self.point is None else f"{base}/{self.point}"

    @property
    def device_address(self) -> Address:
        """The device this address belongs to (itself for a device)."""
        return Address(self.site, self.device)

    def child(self, point: str) -> Address:
        if self.point is not None:
            raise AddressError(f"{self} is a point; points have no children")
        return Address(self.site, self.device, point)


# --- GB/T 28181 codes -----------------------------------------------------------------------

GB_TYPE_CODES: dict[str, int] = {
    # front-end main devices (Annex D; WVP DeviceTypeEnum)
    "dvr": 111,
    "video_server": 112,
    "encoder": 113,
    "decoder": 114,
    "video_matrix": 115,
    "audio_matrix": 116,
    "alarm_controller": 117,
    "panel": 117,
    "nvr": 118,
    "access_control": 124,
    "hvr": 130,
    # front-end peripherals
    "camera": 131,
    "ipc": 132,
    "monitor": 133,
    "alarm_input": 134,
    "zone": 134,
    "alarm_output": 135,
    "siren": 135,
    "voice_in": 136,
    "voice_out": 137,
    "intercom": 137,
    "mobile_transmission": 138,
    "peripheral": 139,
    "relay_output": 140,
    "output": 140,
    "barrier_gate": 141,
    "door": 142,
    "reader": 143,
    # platform devices
    "platform": 200,
    "sip_server": 200,
    "alarm_server": 205,
    "access_gateway": 209,
    "gateway": 209,
    "business_group": 215,
    "virtual_organisation": 216,
}
"""Device kind → GB/T 28181 type code; kinds not listed get 139 (other peripheral)."""

DEFAULT_GB_TYPE = 139
_GB_CODE = re.compile(r"^\d{20}$")
_GB_PREFIX = re.compile(r"^\d{10}$")


@dataclass(frozen=True, slots=True)
class GbCode:
    """A 20-digit GB/T 28181 code split into its fields."""

    center: str
    industry: str
    type_code: int
    network: int
    serial: int

    @classmethod
    def parse(cls, code: str) -> GbCode:
        if not _GB_CODE.fullmatch(code):
            raise AddressError(f"GB/T 28181 code {code!r} must be exactly 20 digits")
        return cls(code[0:8], code[8:10], int(code[10:13]), int(code[13]), int(code[14:20]))

    def __str__(self) -> str:
        return f"{self.center}{self.industry}{self.type_code:03d}{self.network:d}{self.serial:06d}"

    @property
    def is_front_end(self) -> bool:
        """Front-end main device or peripheral (type 111-199)."""
        return 111 <= self.type_code <= 199


def gb_type_for_kind(kind: str) -> int:
    """The GB/T 28181 type code for a device kind (139 when the kind has none)."""
    return GB_TYPE_CODES.get(kind, DEFAULT_GB_TYPE)


class GbCodeAllocator:
    """Assigns GB codes from a configured 10-digit prefix (centre 8 + industry 2).

    Serials are counted per type code so the codes stay dense and readable; codes pinned in config
    are reserved first so an assigned code never collides with a pinned one.
    """

    def __init__(self, prefix: str, network: int = 0) -> None:
        if not _GB_PREFIX.fullmatch(prefix):
            raise AddressError(
                f"GB/T 28181 prefix {prefix!r} must be 10 digits (centre 8 + industry 2)"
            )
        if not 0 <= network <= 9:
            raise AddressError(f"GB/T 28181 network digit {network} must be 0-9")
        self.prefix = prefix
        self.network = network
        self._used: set[str] = set()
        self._next_serial: dict[int, int] = {}

    def reserve(self, code: str) -> None:
        """Mark an explicitly set code as taken; raises on a duplicate."""
        GbCode.parse(code)
        if code in self._used:
            raise AddressError(f"GB/T 28181 code {code} is assigned twice")
        self._used.add(code)

    def assign(self, kind: str) -> str:
        """The next free code for a device of ``kind``."""
        type_code = gb_type_for_kind(kind)
        serial = self._next_serial.get(type_code, 1)
        while True:
            if serial > 999_999:
                raise AddressError(f"GB/T 28181 serials for type {type_code} are exhausted")
            code = str(GbCode(self.prefix[:8], self.prefix[8:], type_code, self.network, serial))
            serial += 1
            if code not in self._used:
                break
        self._next_serial[type_code] = serial
        self._used.add(code)
        return code
