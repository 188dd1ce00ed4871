"""The receiver's settings: listeners, accounts (keys, site, supervision), limits, variants."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.model.common import TimeZoneName
from gateway.sdk.accounts import PanelAccountConfig
from plugins.sia_dc09.dc09 import Dc09Error, Key


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountConfig(PanelAccountConfig):
    key_hex: SecretStr | None = Field(
        default=None, description="AES key as 32/48/64 hex digits (use ${ENV} in anfang.yaml)"
    )
    key_ascii: SecretStr | None = Field(
        default=None, description="AES key as 16/24/32 ASCII characters used as raw bytes"
    )
    supervision_s: float | None = Field(
        default=None, gt=0, description="link-test interval: device.offline when it is missed"
    )
    timezone: TimeZoneName | None = Field(
        default=None,
        description="the panel sends local time in this IANA zone (a vendor quirk); default UTC",
    )
    plain_allowed: bool = Field(
        default=False,
        description="with a key: also accept unencrypted frames (by default they get DUH, so a "
        "key means no one can send this panel's alarms, or its link tests, in the clear)",
    )

    @field_validator("key_hex", "key_ascii")
    @classmethod
    def _key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # the same check the receiver makes, so `anfang check` finds a bad key first
        if value is not None:
            make = Key.from_hex if info.field_name == "key_hex" else Key.from_ascii
            try:
                make(value.get_secret_value())
            except Dc09Error as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_key(self) -> AccountConfig:
        if self.key_hex is not None and self.key_ascii is not None:
            raise ValueError("give key_hex or key_ascii, not both")
        return self


class Variants(Strict):
    """Vendor deviations accepted from every panel; each one seen is flagged on the event."""

    binary_crc: bool = Field(default=False, description="2-byte binary CRC (Lupusec, OPAX)")
    decimal_length: bool = Field(default=False, description="decimal length field (ELDES)")


class ReceiverConfig(Strict):
    host: str = Field(default="127.0.0.1", description="address to listen on")
    tcp_port: int | None = Field(
        default=None, ge=0, le=65535, description="TCP port (DC-09 commonly 12300-12399); 0 = any"
    )
    udp_port: int | None = Field(default=None, ge=0, le=65535, description="UDP port; 0 = any")
    accounts: list[AccountConfig] = Field(
        default_factory=list, description="known panels; others are journaled as unknown"
    )
    strict: bool = Field(
        default=False,
        description="refuse unknown accounts (DUH) instead of journaling them as unknown",
    )
    window_past_s: float = Field(
        default=40.0, ge=0, description="oldest accepted timestamp, seconds before now"
    )
    window_future_s: float = Field(
        default=20.0, ge=0, description="newest accepted timestamp, seconds after now"
    )
    dedup_window_s: float = Field(
        default=600.0, gt=0, description="a repeat within this long is ACKed, not reported again"
    )
    max_connections: int = Field(default=2000, ge=1, description="simultaneous TCP connections")
    max_connections_per_address: int = Field(
        default=200, ge=1, description="simultaneous TCP connections from one address (a flood)"
    )
    idle_timeout_s: float = Field(
        default=60.0, gt=0, description="a TCP connection silent this long is closed"
    )
    max_frame: int = Field(default=1024, ge=64, le=65536, description="largest frame in bytes")
    variants: Variants = Field(default_factory=Variants, description="vendor deviations accepted")

    @model_validator(mode="after")
    def _listens(self) -> ReceiverConfig:
        if self.tcp_port is None and self.udp_port is None:
            raise ValueError("set tcp_port, udp_port or both")
        seen: set[str] = set()
        for account in self.accounts:
            key = account.account.upper()
            if key in seen:
                raise ValueError(f"account {account.account} is configured twice")
            seen.add(key)
        return self

    def listens(self) -> list[tuple[str, str, int]]:
        """Where this receiver listens, for ``anfang check``'s clash of ports."""
        ports = (("tcp", self.tcp_port), ("udp", self.udp_port))
        return [(protocol, self.host, port) for protocol, port in ports if port is not None]
