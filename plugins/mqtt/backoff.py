"""Reconnect delays: exponential with full jitter, so a fleet of gateways that lost the same
broker does not come back in lock-step (the AWS "full jitter" scheme: uniform in [0, cap])."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if initial_s <= 0 or max_s < initial_s:
            raise ValueError(f"need 0 < initial_s <= max_s, got {initial_s}, {max_s}")
        self.initial_s = initial_s
        self.max_s = max_s
        self._rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        """The next delay: uniform in [initial/2, cap], cap doubling per failure up to max."""
        cap = min(self.max_s, self.initial_s * 2**self.attempt)
        self.attempt += 1
        return self._rng.uniform(min(cap, self.initial_s) / 2, cap)

    def reset(self) -> None:
        self.attempt = 0
