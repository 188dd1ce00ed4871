"""The connector's settings: broker, TLS and login, topic prefix, window, backlog, commands."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

DEFAULT_WINDOW = 32
"""Publishes awaiting their PUBACK at once. paho's own default in-flight limit is 20 (as is
mosquitto's ``max_inflight_messages``, which paces the broker's sends to subscribers, not
ours). bench/mqtt.py sweeps 1 → 128 on loopback: 1: 1,723/s, 4: 2,699, 16: 4,014, 32: 4,223,
64: 3,963, 128: 3,755 — the rate stops growing around 32, and a larger window only means more
repeats after a broken connection."""

TOPIC_LEVEL = r"^[^#+/\x00]{1,64}(/[^#+/\x00]{1,64}){0,4}$"
"""A prefix: 1-5 topic levels with no wildcard, no empty level, no NUL."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TlsConfig(Strict):
    """TLS to the broker; client certificates when the broker asks for them."""

    ca_file: Path | None = Field(
        default=None,
        description="CA certificate(s) (PEM) that signed the broker's; default: system",
    )
    cert_file: Path | None = Field(default=None, description="client certificate (PEM)")
    key_file: Path | None = Field(default=None, description="client private key (PEM)")
    key_password: SecretStr | None = Field(
        default=None, description="password of an encrypted key_file (use ${ENV})"
    )
    verify_hostname: bool = Field(
        default=True, description="check the broker certificate's name against `host`"
    )

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (a client certificate needs both)")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}: no such file {path}")
        return self


class BacklogConfig(Strict):
    """How far behind the broker may leave the connector before it gives up on old records.

    The records stay in the journal either way; past a bound the connector skips ahead so a
    long broker outage cannot make it replay days of history, and says so with an alarm."""

    max_records: int = Field(
        default=1_000_000, ge=1, description="most undelivered records before skipping the oldest"
    )
    max_age_s: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="oldest undelivered record (by gateway time) before skipping it",
    )
    warn_ratio: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="raise mqtt.backlog when the backlog passes this share of either bound",
    )
    check_s: float = Field(default=5.0, gt=0, description="how often the backlog is measured")


class AllowRule(Strict):
    targets: list[str] = Field(
        min_length=1, description="target address globs (e.g. 'hq/*', 'hq/panel-1/*')"
    )
    actions: list[str] = Field(
        min_length=1, description="action globs (e.g. 'area.*', 'door.unlock')"
    )


class CommandsConfig(Strict):
    """Commands from MQTT. The broker's ACL decides who may publish to the command topics;
    these rules decide what this gateway carries out (anything else is answered ``denied``)."""

    enabled: bool = Field(default=False, description="subscribe to <prefix>/commands/#")
    allow: list[AllowRule] = Field(
        default_factory=list, description="what may be commanded; empty: every command is denied"
    )
    max_concurrent: int = Field(
        default=16, ge=1, le=1024, description="commands carried out at once; more wait"
    )
    max_payload: int = Field(
        default=16 * 1024, ge=64, le=1024 * 1024, description="largest command payload in bytes"
    )

    def allows(self, target: str, action: str) -> bool:
        return any(
            any(fnmatch.fnmatchcase(target, t) for t in rule.targets)
            and any(fnmatch.fnmatchcase(action, a) for a in rule.actions)
            for rule in self.allow
        )


class DiscoveryConfig(Strict):
    """Home Assistant MQTT discovery: areas as alarm panels, zones and doors as binary
    sensors, numeric event data as sensors."""

    enabled: bool = Field(default=False, description="publish Home Assistant discovery configs")
    prefix: str = Field(
        default="homeassistant", pattern=TOPIC_LEVEL, description="HA's discovery prefix"
    )


class MqttConfig(Strict):
    host: str = Field(default="127.0.0.1", min_length=1, description="broker host name or address")
    port: int = Field(default=1883, ge=1, le=65535, description="broker port (8883 for TLS)")
    protocol: str = Field(
        default="5", pattern=r"^(5|3\.1\.1)$", description="MQTT version: '5' or '3.1.1'"
    )
    client_id: str | None = Field(
        default=None,
        max_length=128,
        description="MQTT client id; default anfang-<site>-<instance> (unique per gateway)",
    )
    username: str | None = Field(default=None, max_length=256, description="broker login")
    password: SecretStr | None = Field(default=None, description="broker password (use ${ENV})")
    tls: TlsConfig | None = Field(default=None, description="TLS to the broker; omit for plain TCP")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keep-alive")
    topic_prefix: str = Field(
        default="anfang", pattern=TOPIC_LEVEL, description="first topic level(s) of every topic"
    )
    kinds: list[str] = Field(
        default_factory=list,
        description="publish only these kinds (prefixes or globs, as in the journal filter)",
    )
    sources: list[str] = Field(
        default_factory=list, description="publish only events from these address globs"
    )
    history: bool = Field(
        default=False,
        description="on the connector's first start, also publish what the journal already "
        "holds; by default it starts at the head (retained state still shows the present)",
    )
    window: int = Field(
        default=DEFAULT_WINDOW,
        ge=1,
        le=1024,
        description="in-flight window: publishes awaiting PUBACK at once",
    )
    publish_timeout_s: float = Field(
        default=30.0, gt=0, description="a PUBACK not seen this long: reconnect and resend"
    )
    reconnect_min_s: float = Field(default=0.5, gt=0, description="first reconnect delay")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="longest reconnect delay")
    head_interval_s: float = Field(
        default=60.0, gt=0, description="how often the journal's chain head is published"
    )
    state_interval_s: float = Field(
        default=1.0, gt=0, description="how often device and area state is checked for changes"
    )
    backlog: BacklogConfig = Field(default_factory=BacklogConfig, description="backlog bounds")
    commands: CommandsConfig = Field(default_factory=CommandsConfig, description="commands in")
    discovery: DiscoveryConfig = Field(
        default_factory=DiscoveryConfig, description="Home Assistant discovery"
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        for kind in value:
            if not kind or kind.strip() != kind:
                raise ValueError(f"kind filter {kind!r} is empty or has spaces")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        if self.password is not None and self.username is None:
            raise ValueError("password without username")
        return self
