"""The bridge's settings: how to reach the receiver, the receiver as a device, accounts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.model.address import SEGMENT_PATTERN
from gateway.sdk.accounts import PanelAccountConfig
from plugins.receiver_line.splitter import MAX_LINE


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountConfig(PanelAccountConfig):
    """A panel whose signals come through the receiver."""


class ReceiverDevice(Strict):
    name: str = Field(
        default="receiver",
        pattern=f"^{SEGMENT_PATTERN}$",
        description="the hardware receiver's device name: its address is <site>/<name>",
    )
    heartbeat_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="the receiver's heartbeat timer (Sur-Gard option 12 / [411], default 30 s)",
    )
    missed_heartbeats: int = Field(
        default=3,
        ge=1,
        le=100,
        description="device.offline once this many heartbeat intervals pass without a line",
    )

    @property
    def supervision_s(self) -> float:
        return self.heartbeat_s * self.missed_heartbeats


class LineConfig(Strict):
    transport: Literal["tcp_client", "tcp_server", "serial"] = Field(
        description="tcp_client: connect to the receiver's automation port (System III/5: "
        "1025); tcp_server: the receiver (or its serial server) connects here; serial: a "
        "local serial port",
    )
    host: str = Field(
        default="127.0.0.1",
        description="tcp_client: the receiver's address; tcp_server: the address to listen on",
    )
    port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="TCP port (tcp_client: the receiver's, default 1025; tcp_server: 0 = any)",
    )
    serial_port: str | None = Field(default=None, description="serial device, e.g. /dev/ttyS0")
    baudrate: int = Field(default=9600, ge=300, le=921600, description="serial speed (bit/s)")
    bytesize: Literal[7, 8] = Field(default=8, description="serial data bits")
    parity: Literal["N", "E", "O"] = Field(default="N", description="serial parity")
    stopbits: Literal[1, 2] = Field(default=1, description="serial stop bits")
    reconnect_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="wait before connecting or opening the serial port again after a failure",
    )
    receiver: ReceiverDevice = Field(
        default_factory=ReceiverDevice, description="the hardware receiver as a registry device"
    )
    accounts: list[AccountConfig] = Field(
        default_factory=list, description="known panels; others are journaled as unknown"
    )
    strict: bool = Field(
        default=False,
        description="refuse (NAK) lines from unknown accounts instead of journaling them",
    )
    repeat_window_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="the same line again within this long after its ACK is a retransmission",
    )
    ack_guard_s: float = Field(
        default=2.0,
        ge=0,
        le=30,
        description="a copy of the line just ACKed arriving this soon after the ACK was sent "
        "before it: it gets no answer (a second ACK would be taken for the next line's)",
    )
    max_line: int = Field(default=MAX_LINE, ge=64, le=65536, description="longest line in bytes")

    @model_validator(mode="after")
    def _where(self) -> LineConfig:
        if self.transport == "serial" and not self.serial_port:
            raise ValueError("transport serial needs serial_port")
        if self.transport == "tcp_client" and self.port == 0:
            raise ValueError("port: transport tcp_client needs the receiver's port, not 0")
        if self.transport != "serial" and self.serial_port:
            raise ValueError(f"serial_port is only for transport serial, not {self.transport}")
        seen: set[str] = set()
        for i, account in enumerate(self.accounts):
            key = account.account.upper()
            if key in seen:
                raise ValueError(f"accounts[{i}].account: {account.account} is configured twice")
            seen.add(key)
        return self

    @property
    def tcp_port(self) -> int:
        if self.port is not None:
            return self.port
        return 1025 if self.transport == "tcp_client" else 0

    def listens(self) -> list[tuple[str, str, int]]:
        """Where this bridge listens (as tcp_server), for ``anfang check``'s clash of ports."""
        return [("tcp", self.host, self.tcp_port)] if self.transport == "tcp_server" else []
