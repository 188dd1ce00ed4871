"""Retained state topics: device status and area state from the registry, the chain head.

The registry is the owner of both; this module only notices what changed since it last
published (compare the payload bytes) so a sweep every second costs a dict walk, not traffic.
A payload is built again only for an entity that changed (:mod:`plugins.mqtt.memo`).
After a reconnect everything is published again, since a broker without persistence forgets
retained messages when it restarts.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.model.entities import Area, Device
from plugins.mqtt.delivery import Message
from plugins.mqtt.memo import Memo
from plugins.mqtt.payloads import area_state_payload, device_status_payload
from plugins.mqtt.topics import Topics


class RetainedState:
    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self._published: dict[str, bytes] = {}
        self.built: Memo[tuple[str, bytes]] = Memo()
        """(topic, payload) per device or area, kept while the entity is the same."""

    def forget(self) -> None:
        """A new connection: publish everything again."""
        self._published.clear()

    def changes(self, devices: Iterable[Device], areas: Iterable[Area]) -> list[Message]:
        out: list[Message] = []
        for device in devices:
            self._note(
                out, self.built.get(("device", device.address), device, self._device, device)
            )
        for area in areas:
            self._note(out, self.built.get(("area", area.address), area, self._area, area))
        self.built.sweep()
        return out

    def _device(self, device: Device) -> tuple[str, bytes]:
        return self.topics.device_status(device.address), device_status_payload(device)

    def _area(self, area: Area) -> tuple[str, bytes]:
        return self.topics.area_state(area.address), area_state_payload(area)

    def _note(self, out: list[Message], built: tuple[str, bytes]) -> None:
        topic, payload = built
        if self._published.get(topic) != payload:
            out.append(Message(topic, payload, retain=True))

    def published(self, message: Message) -> None:
        """Call once the broker acknowledged it."""
        self._published[message.topic] = message.payload
