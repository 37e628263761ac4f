"""Exponential backoff between retries of a step that failed for an outside reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    """Delays ``initial``, 2x, 4x, ... capped at ``maximum`` seconds.

    >>> backoff = Backoff(1.0, 5.0)
    >>> [backoff.next_delay() for _ in range(4)]
    [1.0, 2.0, 4.0, 5.0]
    """

    initial: float
    maximum: float
    attempts: int = 0

    def next_delay(self) -> float:
        delay = min(self.maximum, self.initial * 2.0 ** min(self.attempts, 32))
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
