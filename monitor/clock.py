"""Time comes from an injected clock, so tests, the demo and replays can set it.

- ``utc_now``: the wall clock, in production;
- ``FixedClock``: one moment (``diagnose --at``);
- ``EventClock``: follows the events' source time, for replays: the newest
  source timestamp seen so far, never going back (events of different topics
  are not ordered with each other, so a late older one must not rewind time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class FixedClock:
    """Always ``moment`` (timezone-aware)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self.moment = moment.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.moment


class EventClock:
    """The newest source time observed (monotonic); ``start`` until the first event."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def observe(self, moment: datetime) -> datetime:
        """Move to ``moment`` if it is later; return the clock's time."""
        with self._lock:
            if moment > self._now:
                self._now = moment.astimezone(UTC)
            return self._now

    def observe_ms(self, source_ts_ms: int) -> datetime:
        return self.observe(datetime.fromtimestamp(source_ts_ms / 1000, UTC))

    def __call__(self) -> datetime:
        with self._lock:
            return self._now
