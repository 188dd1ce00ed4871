"""A small real notifier for the base's tests: the request's subject says how delivery goes.

Not a mock of a peer: the base under test only ever talks to ``deliver``, and this is a
complete notifier plugin whose ``deliver`` behaves as the subject asks —

- ``ok …``: delivered;
- ``transient-N …``: the first N attempts fail transiently, then delivered;
- ``permanent …``: fails for good;
- ``bug …``: ``deliver`` raises an unexpected exception (a notifier's bug);
- ``slow …``: never answers (the attempt times out);
- ``hold-NAME …``: waits until the test opens the gate ``NAME``, then delivered.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import Field

from gateway.sdk.notifier import DeliveryError, Notification, NotifierConfig, NotifierPlugin


class ScriptedConfig(NotifierConfig):
    default_to: list[str] = Field(default_factory=list, description="recipients by default")


class ScriptedNotifier(NotifierPlugin[ScriptedConfig]):
    name = "scripted"
    version = "0.1.0"
    description = "test notifier driven by the request's subject"
    protocols = ("test",)
    Config = ScriptedConfig

    attempts: ClassVar[list[tuple[str, str, int]]] = []
    """(request id, subject, attempt) of every call to deliver, across instances."""
    gates: ClassVar[dict[str, asyncio.Event]] = {}

    @classmethod
    def reset(cls) -> None:
        cls.attempts = []
        cls.gates = {}

    def default_recipients(self) -> list[str]:
        return list(self.config.default_to)

    async def deliver(self, n: Notification) -> str:
        subject = n.request.subject
        type(self).attempts.append((n.id, subject, n.attempt))
        word = subject.split()[0]
        if word.startswith("transient-") and n.attempt <= int(word.split("-")[1]):
            raise DeliveryError(f"busy (attempt {n.attempt})", permanent=False)
        if word.startswith("transient-") and "-hold-" in word:  # then waits: transient-2-hold-a
            await self.gates.setdefault(word.split("-hold-")[1], asyncio.Event()).wait()
        if word == "permanent":
            raise DeliveryError("550 no such mailbox", permanent=True)
        if word == "bug":
            raise KeyError("a notifier bug")
        if word == "slow":
            await asyncio.sleep(3600)
        if word.startswith("hold-"):
            await self.gates.setdefault(word[5:], asyncio.Event()).wait()
        return f"sent to {', '.join(n.recipients) or 'the endpoint'}"
