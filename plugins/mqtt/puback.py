"""QoS 1 publishes for the feed, handed to paho directly, each answered by a future.

aiomqtt's ``publish()`` costs more than paho's own: per message an ``asyncio.Event``, a
``wait_for``, a list built from every pending call, and a task awaiting it all. The feed always
has a window of publishes out, so it paid that on every event (bench/mqtt.py: about a fifth of
the connector's CPU). Here the feed gives each message to the paho client aiomqtt drives and
learns of its PUBACK from paho's ``on_publish``, chained in front of aiomqtt's own handler so
aiomqtt's publishes (status, command answers, discovery) are answered as before.

aiomqtt keeps its paho client private (``Client._client``); this is the one place that reaches
for it, and the MQTT tests against mosquitto run through it on every publish of the feed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import paho.mqtt.client as paho


class PubackFutures:
    """Publish QoS 1 through ``client``'s paho; each returned future resolves on the PUBACK
    with the broker's reason code (MQTT 5; 0 for 3.1.1). Use it as a context manager: leaving
    restores aiomqtt's handler and cancels what was never acknowledged."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._paho: paho.Client = client._client  # private in aiomqtt: see the module docstring
        self._loop = asyncio.get_running_loop()
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._theirs: Any = None

    def __enter__(self) -> PubackFutures:
        self._theirs = self._paho.on_publish
        self._paho.on_publish = self._on_publish
        return self

    def __exit__(self, *exc: object) -> None:
        if self._paho.on_publish == self._on_publish:
            self._paho.on_publish = self._theirs
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            future.cancel()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> asyncio.Future[int]:
        """Hand one message to paho now (so messages leave in call order)."""
        info = self._paho.publish(topic, payload, 1, retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        future: asyncio.Future[int] = self._loop.create_future()
        if info.is_published():  # answered already (never for QoS 1 today; cheap to honour)
            future.set_result(0)
        else:
            self._waiting[info.mid] = future
        return future

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        future = self._waiting.pop(mid, None)
        if future is None:  # one of aiomqtt's own publishes
            if self._theirs is not None:
                self._theirs(client, userdata, mid, reason, properties)
            return
        if not future.done():
            future.set_result(int(getattr(reason, "value", 0)))
