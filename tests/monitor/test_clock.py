"""Clocks: fixed for ``diagnose --at``, following the events' source time for replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.clock import EventClock, FixedClock

START = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)


def test_event_clock_follows_the_newest_source_time_and_never_goes_back() -> None:
    clock = EventClock(START)
    assert clock() == START
    later = START + timedelta(hours=3)
    assert clock.observe(later) == later
    # A late event of another topic, older than what was seen: time does not rewind.
    assert clock.observe(START + timedelta(hours=1)) == later
    assert clock.observe_ms(int((later + timedelta(seconds=1)).timestamp() * 1000)) == (
        later + timedelta(seconds=1)
    )
    assert clock().tzinfo == UTC


def test_fixed_clock_is_in_utc_and_refuses_naive_times() -> None:
    paris = datetime(2025, 9, 15, 8, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert FixedClock(paris)() == datetime(2025, 9, 15, 6, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2025, 9, 15, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        EventClock(datetime(2025, 9, 15, 8, 0))
