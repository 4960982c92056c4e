"""A circuit breaker over judge samples: a dead endpoint costs one deadline, not one deadline per sample."""

from __future__ import annotations

import time
from collections.abc import Callable

from awpo.rewards.judge.client import RETRYABLE
from awpo.rewards.judge.result import JudgeStatus


class CircuitBreaker:
    """Opens after ``threshold`` consecutive samples that ended in a retryable failure (timeout, connection
    error, 429, 5xx after all retries) and stays open ``cooldown_s`` seconds. Any reply from the server (even a
    malformed one or a 4xx) resets the count. After the cool-down, requests go through again; the count is
    only reset by a reply, so one more failure reopens the breaker at once.

    Args:
        threshold: consecutive failures that open the breaker; 0 disables it.
        cooldown_s: how long it stays open, in seconds.
        clock: monotonic time source, in seconds (tests pass a fake).
    """

    def __init__(self, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._consecutive = 0
        self._open_until = -float("inf")

    def is_open(self) -> bool:
        """Whether requests should be skipped now."""
        return self._threshold > 0 and self._clock() < self._open_until

    def record(self, status: JudgeStatus) -> bool:
        """Count one sample's final transport status; True when this call opened the breaker."""
        if status not in RETRYABLE:
            self._consecutive = 0
            return False
        self._consecutive += 1
        if self._threshold == 0 or self._consecutive < self._threshold or self.is_open():
            return False
        self._open_until = self._clock() + self._cooldown_s
        return True
