"""Test transmitters: how a plugin lets an installer prove a path end to end (``anfang send``).

A receiver plugin knows its protocol best, so it also offers the matching transmitter: the
installer sends one real message to a receiver (this gateway or another) and sees the answer and
whether it verified. Declared as ``senders = (SenderSpec(...),)`` on the Plugin class.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

SendResult = dict[str, Any]
"""Printed as one JSON object; ``verified`` (bool) decides the exit status."""


@dataclass(frozen=True)
class SenderSpec:
    name: str
    """The protocol name after ``anfang send`` (e.g. ``sia-dc09``)."""
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    """Adds the sender's own options to its parser."""
    send: Callable[[argparse.Namespace], Coroutine[Any, Any, SendResult]]
    """Sends one message and reports the answer; raises ValueError for unusable options."""
