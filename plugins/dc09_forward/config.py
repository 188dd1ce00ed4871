"""The forwarder's settings: receivers (account, format, key, paths, what to send) and timers.

The timer defaults are chosen so that a primary path that stops answering is left within 10 s
(the issue's requirement for dual-path reporting): an attempt — connect, send, answer — gets
``answer_timeout_s`` = 3 s, ``failover_after`` = 2 failed attempts switch paths, with
``retry_delay_s`` = 0.5 s between them: 3 + 0.5 + 3 = 6.5 s in the worst case for a single
connection, about 3 s when several connections time out together, about 0.5 s for a path
that refuses connections. ``bench/dc09_forward.py`` measures it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from gateway.sdk.accounts import ACCOUNT_PATTERN
from plugins.sia_dc09.dc09 import Dc09Error, Key

RECEIVER_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"
"""Short enough for the path device address ``<site>/<instance>-<name>-primary``."""
HEX_FIELD = r"^[0-9A-Fa-f]{1,6}$"
DEFAULT_CONNECTIONS = 8
"""DC-09 has one message outstanding per connection and our receiver ACKs only after its
journal commit, so one connection is bound by the receiver's commit latency; concurrent
connections share its group commit. Measured on loopback against a second Anfang
(a 3,000-event backlog from 16 devices, 2-core machine shared with other work, ext4): 1
connection 430 events/s, 4: 600, 8: 700, 16: 770. Eight passes the 500/s target with room;
more buys little and holds more events in flight. Events of one device still go one at a
time, so each device's events reach the centre in their journal order."""


class Format(StrEnum):
    """What the receiver is sent: SIA DC-03 events or Contact ID events, inside DC-09."""

    SIA_DCS = "sia-dcs"
    ADM_CID = "adm-cid"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PathConfig(Strict):
    host: str = Field(min_length=1, description="the receiver's address on this path")
    port: int = Field(ge=1, le=65535, description="the receiver's TCP port (DC-09: 12300-12399)")


class ReceiverConfig(Strict):
    name: str = Field(
        pattern=RECEIVER_NAME, description="short name: cursor, state and path device names"
    )
    account: str = Field(
        pattern=ACCOUNT_PATTERN, description="the account this site reports under (3-16 hex)"
    )
    format: Format = Field(default=Format.SIA_DCS, description="'sia-dcs' or 'adm-cid'")
    key_hex: SecretStr | None = Field(
        default=None, description="AES key as 32/48/64 hex digits (use ${ENV}); omit: plain"
    )
    key_ascii: SecretStr | None = Field(
        default=None, description="AES key as 16/24/32 ASCII characters used as raw bytes"
    )
    receiver: str | None = Field(
        default=None, pattern=HEX_FIELD, description="DC-09 receiver number (R field), 1-6 hex"
    )
    line: str = Field(default="0", pattern=HEX_FIELD, description="DC-09 line prefix (L field)")
    primary: PathConfig = Field(description="the primary path")
    backup: PathConfig | None = Field(
        default=None, description="the backup path (dual path, EN 50136 DP categories)"
    )
    kinds: list[str] = Field(
        default_factory=list, description="send only these kinds (prefixes or globs); [] = all"
    )
    sources: list[str] = Field(
        default_factory=list, description="send only events from these address globs"
    )
    max_priority: int | None = Field(
        default=None, ge=1, le=4, description="send only events of this priority or higher"
    )

    @model_validator(mode="after")
    def _one_key(self) -> ReceiverConfig:
        if self.key_hex is not None and self.key_ascii is not None:
            raise ValueError("give key_hex or key_ascii, not both")
        try:  # the same check the forwarder makes, so `anfang check` finds a bad key first
            self.key()
        except Dc09Error as exc:
            raise ValueError(f"receiver {self.name}: {exc}") from None
        return self

    @field_validator("kinds", "sources")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern or pattern.strip() != pattern:
                raise ValueError(f"filter pattern {pattern!r} is empty or has spaces")
        return value

    def key(self) -> Key | None:
        if self.key_hex is not None:
            return Key.from_hex(self.key_hex.get_secret_value())
        if self.key_ascii is not None:
            return Key.from_ascii(self.key_ascii.get_secret_value())
        return None


class ForwardConfig(Strict):
    receivers: list[ReceiverConfig] = Field(
        min_length=1, description="the alarm receiving centres this gateway reports to"
    )
    history: bool = Field(
        default=False,
        description="on a receiver's first start, also send what the journal already holds; "
        "by default it starts at the journal's head",
    )
    unmapped: Literal["general", "skip"] = Field(
        default="general",
        description="a kind no code reports: 'general' sends alarms/restores as the general "
        "alarm code (SIA UA/UR, CID 140), 'skip' sends nothing; both count it",
    )
    connections: int = Field(
        default=DEFAULT_CONNECTIONS,
        ge=1,
        le=32,
        description="connections per path, each with one message in flight; events of one "
        "device never overtake each other",
    )
    answer_timeout_s: float = Field(
        default=3.0, gt=0, le=60, description="an attempt (connect, send, answer) this slow fails"
    )
    failover_after: int = Field(
        default=2, ge=1, le=100, description="failed attempts in a row that switch paths"
    )
    failback_after: int = Field(
        default=2, ge=1, le=100, description="answered probes in a row that bring the primary back"
    )
    retry_delay_s: float = Field(
        default=0.5, gt=0, le=60, description="first wait before a retry; doubles while failing"
    )
    retry_max_delay_s: float = Field(
        default=30.0, gt=0, le=3600, description="longest wait between retries"
    )
    link_test_s: float = Field(
        default=60.0, gt=0, description="a NULL link test on each path idle this long"
    )
    probe_s: float = Field(
        default=5.0, gt=0, description="NULL probes of a failed, unused path (for failback)"
    )
    path_supervision_s: float | None = Field(
        default=None,
        gt=0,
        description="a path silent this long is device.offline; default 2 x link_test_s + "
        "answer_timeout_s",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ForwardConfig:
        names = [r.name for r in self.receivers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"receiver name {name!r} is used twice")
        if self.retry_max_delay_s < self.retry_delay_s:
            raise ValueError("retry_max_delay_s is shorter than retry_delay_s")
        supervision = self.supervision_s
        if supervision <= self.link_test_s:
            raise ValueError(
                f"path_supervision_s ({supervision:g}) must be longer than link_test_s "
                f"({self.link_test_s:g}), or an idle healthy path is reported offline"
            )
        return self

    @property
    def supervision_s(self) -> float:
        if self.path_supervision_s is not None:
            return self.path_supervision_s
        return 2 * self.link_test_s + self.answer_timeout_s
