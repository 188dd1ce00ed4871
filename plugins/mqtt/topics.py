"""The topic layout, in one place (docs/mqtt.md shows the same table).

Addresses are ``site/device[/point]`` and every segment is already a safe topic level (see
gateway.model.address), so an address becomes topic levels as it is; kinds become levels by
their dots (``trouble.ac_loss`` → ``trouble/ac_loss``), so ``anfang/events/trouble/#`` selects
every trouble.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.model.address import ADDRESS_PATTERN

_TARGET = re.compile(ADDRESS_PATTERN)


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def event(self, kind: str, source: str) -> str:
        return f"{self.prefix}/events/{kind.replace('.', '/')}/{source}"

    def device_status(self, address: str) -> str:
        return f"{self.prefix}/devices/{address}/status"

    def point_state(self, address: str) -> str:
        """Derived from events: whether a zone or door is active (retained)."""
        return f"{self.prefix}/devices/{address}/state"

    def area_state(self, area_address: str) -> str:
        return f"{self.prefix}/areas/{area_address}/state"

    def telemetry(self, address: str) -> str:
        return f"{self.prefix}/telemetry/{address}"

    @property
    def journal_head(self) -> str:
        return f"{self.prefix}/journal/head"

    @property
    def gateway_status(self) -> str:
        return f"{self.prefix}/gateway/status"

    @property
    def commands_filter(self) -> str:
        return f"{self.prefix}/commands/#"

    def command(self, target: str) -> str:
        return f"{self.prefix}/commands/{target}"

    def result(self, target: str) -> str:
        return f"{self.prefix}/results/{target}"

    def command_tail(self, topic: str) -> str:
        """What follows ``<prefix>/commands/`` (the answer goes to the same tail)."""
        head = f"{self.prefix}/commands/"
        return topic[len(head) :] if topic.startswith(head) else ""

    def result_for(self, tail: str) -> str:
        return f"{self.prefix}/results/{tail}" if tail else f"{self.prefix}/results"

    def command_target(self, topic: str) -> str:
        """The target address a command topic names; ValueError says what is wrong with it."""
        head = f"{self.prefix}/commands/"
        if not topic.startswith(head):
            raise ValueError(f"topic {topic!r} is not under {head}")
        target = topic[len(head) :]
        if target.count("/") < 1:
            raise ValueError(
                f"topic {topic!r} must name a target: {head}<site>/<device or area>[/<point>]"
            )
        if not _TARGET.fullmatch(target):
            raise ValueError(
                f"topic {topic!r}: target {target!r} must be 'site/device', 'site/area' or "
                "'site/device/point', each part 1-64 letters, digits, '_', '.', ':' or '-'"
            )
        return target
