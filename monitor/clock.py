"""Time comes from an injected clock, so tests, the demo and replays can set it.

A ``Clock`` answers three questions: what time it is (``now()``, also ``clock()``,
timezone-aware), how much time has passed (``monotonic()``, seconds, for
keep-alives, deferrals and leases) and waits (``sleep()``). The daemon reads
time only through the clock it is given.

- ``SystemClock`` / ``utc_now``: the machine's clocks, in production;
- ``FixedClock``: one moment (``diagnose --at``); elapsed time is real;
- ``EventClock``: follows the events' source time, for replays: the newest
  source timestamp seen so far, never going back (events of different topics
  are not ordered with each other, so a late older one must not rewind time);
- ``ManualClock``: tests and the demo move it by hand; ``sleep`` advances it
  without waiting, so nothing in a test waits on wall time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def __call__(self) -> datetime: ...

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a clock's time must be timezone-aware")
    return moment.astimezone(UTC)


class _RealElapsed:
    """Elapsed time and waits from the machine: for clocks that only set the date."""

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        raise NotImplementedError

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class SystemClock(_RealElapsed):
    """The machine's wall clock (UTC) and monotonic clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


utc_now = SystemClock()
"""The production clock; ``utc_now()`` is the current UTC time."""


class FixedClock(_RealElapsed):
    """Always ``moment`` (timezone-aware)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = _aware(moment)

    def now(self) -> datetime:
        return self.moment


class EventClock(_RealElapsed):
    """The newest source time observed (monotonic); ``start`` until the first event."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def observe(self, moment: datetime) -> datetime:
        """Move to ``moment`` if it is later; return the clock's time."""
        with self._lock:
            if moment > self._now:
                self._now = moment.astimezone(UTC)
            return self._now

    def observe_ms(self, source_ts_ms: int) -> datetime:
        return self.observe(datetime.fromtimestamp(source_ts_ms / 1000, UTC))

    def now(self) -> datetime:
        with self._lock:
            return self._now


class ManualClock:
    """A clock moved by hand: ``set`` the date, ``advance`` both; ``sleep`` advances."""

    def __init__(self, start: datetime, monotonic: float = 0.0) -> None:
        self._now = _aware(start)
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Both clocks move on by ``seconds``."""
        with self._lock:
            self._now += timedelta(seconds=max(0.0, seconds))
            self._monotonic += max(0.0, seconds)

    def set(self, moment: datetime) -> None:
        """The date jumps to ``moment`` (a simulated checkpoint); elapsed time does not."""
        with self._lock:
            self._now = _aware(moment)


class _WallOnly(_RealElapsed):
    def __init__(self, read: Callable[[], datetime]) -> None:
        self._read = read

    def now(self) -> datetime:
        return self._read()


def as_clock(clock: Clock | Callable[[], datetime]) -> Clock:
    """``clock`` itself, or a plain ``() -> datetime`` with the machine's elapsed time."""
    if isinstance(clock, Clock):
        return clock
    return _WallOnly(clock)
