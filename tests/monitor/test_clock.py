"""Clocks: fixed for ``diagnose --at``, following the events' source time for replays."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.clock import Clock, EventClock, FixedClock, ManualClock, as_clock, utc_now
from monitor.config import HttpSettings, StoreSettings, load_settings
from monitor.daemon import MAX_DETECTION_DEFERRAL_SECONDS, Daemon

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


def test_manual_clock_moves_only_by_hand_and_sleep_does_not_wait() -> None:
    clock = ManualClock(START)
    assert clock.now() == clock() == START
    assert clock.monotonic() == 0.0
    clock.sleep(90)  # advances, returns at once
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.monotonic() == 90.0
    clock.set(START + timedelta(days=1))  # a simulated checkpoint: the date jumps ...
    assert clock.now() == START + timedelta(days=1)
    assert clock.monotonic() == 90.0  # ... elapsed time does not
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 9, 1, 6, 0))


def test_a_plain_callable_becomes_a_clock_with_the_machines_elapsed_time() -> None:
    clock = as_clock(lambda: START)
    assert isinstance(clock, Clock)
    assert clock.now() == clock() == START
    before = clock.monotonic()
    assert clock.monotonic() >= before
    manual = ManualClock(START)
    assert as_clock(manual) is manual
    assert isinstance(utc_now, Clock) and utc_now().tzinfo == UTC


def test_the_daemon_measures_its_detection_deferral_on_the_clock_it_is_given(
    sqlite_engine: Engine,
) -> None:
    """Sustained ingest load defers detection at most MAX_DETECTION_DEFERRAL_SECONDS, read
    on the injected clock: a test moves it instead of waiting five minutes."""
    clock = ManualClock(START)
    settings = load_settings(
        store=StoreSettings(url=str(sqlite_engine.url)),
        http=HttpSettings(enabled=False),
    )
    daemon = Daemon(settings, registry=CollectorRegistry(), engine=sqlite_engine, clock=clock)
    assert daemon.clock is clock
    # Never opened: its ingest has not caught up, so the passes wait ...
    assert not daemon.ingest_settled()
    clock.advance(MAX_DETECTION_DEFERRAL_SECONDS - 1)
    assert not daemon.ingest_settled()
    # ... until the deferral has lasted long enough on that clock.
    clock.advance(2)
    assert daemon.ingest_settled()


def test_importing_the_daemon_loads_neither_the_simulator_nor_the_demo() -> None:
    """The daemon's imports stay out of ``monitor.simulation`` (4,700 lines) and the demo."""
    probe = (
        "import sys, monitor.daemon; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('monitor.simulation', 'monitor.simulation.demo', 'monitor.simulation.mailsink'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_importing_the_cli_loads_of_the_simulator_only_its_command() -> None:
    """Every ``ecampus-monitor`` process (``run`` among them) starts without the simulator:
    the CLI registers ``simulate`` from ``monitor.simulation.command``, which imports the
    generator, the faults and the timeline only when the command runs."""
    probe = (
        "import sys, monitor.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('monitor.simulation')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['monitor.simulation', 'monitor.simulation.command']"
