"""Time in the rules: R7 year overlap, R9 pending until the next night, R10 maintenance window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from model_builders import NOW, elp, ip

from detectors.facts import SyncRun
from detectors.model import (
    ModelConfig,
    academic_year,
    active_years,
    expected_for_elp,
    in_maintenance_window,
    in_year_overlap,
    is_pending,
    is_pending_since,
    is_year_active,
    maintenance_window_at_or_after,
    year_inactive_from,
)
from detectors.state import FactSet

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


# --- R7 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "year", "overlap", "active"),
    [
        (paris(2025, 8, 31, 23, 59), 2024, False, {2024}),
        (paris(2025, 9, 1, 0, 0), 2025, True, {2024, 2025}),
        (paris(2025, 9, 30, 23, 59), 2025, True, {2024, 2025}),
        (paris(2025, 10, 1, 0, 0), 2025, False, {2025}),
        (paris(2026, 3, 1, 12, 0), 2025, False, {2025}),
    ],
)
def test_previous_year_stays_active_until_30_september_inclusive(
    moment: datetime, year: int, overlap: bool, active: set[int]
) -> None:
    assert academic_year(moment) == year
    assert in_year_overlap(moment) is overlap
    assert active_years(moment) == active
    assert is_year_active(2024, moment) is (2024 in active)


def test_the_overlap_is_read_in_paris_time_not_utc() -> None:
    # 30 September 23:30 in Paris is 21:30 UTC; 1 October 00:30 in Paris is still 30 Sept in UTC.
    assert in_year_overlap(datetime(2025, 9, 30, 21, 30, tzinfo=UTC))
    assert not in_year_overlap(datetime(2025, 9, 30, 22, 30, tzinfo=UTC))


def test_overlap_end_is_configurable_and_gives_the_instant_a_year_closes() -> None:
    config = ModelConfig(year_overlap_until=(10, 15))
    assert in_year_overlap(paris(2025, 10, 10, 12, 0), config)
    assert year_inactive_from(2024) == paris(2025, 10, 1, 0, 0)
    assert year_inactive_from(2024, config) == paris(2025, 10, 16, 0, 0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        academic_year(datetime(2025, 9, 1))


def test_invalid_month_day_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="year_overlap_until"):
        ModelConfig(year_overlap_until=(9, 31))


# --- R9 ------------------------------------------------------------------------------------

RUN_START = NOW - timedelta(hours=8)
LAST_RUN = SyncRun("r1", RUN_START, RUN_START + timedelta(hours=1), "success")
RUNNING = SyncRun("r2", NOW - timedelta(minutes=5), None, "running")


def test_fact_older_than_the_last_completed_run_is_a_fault_younger_is_pending() -> None:
    facts = FactSet.build(runs=[LAST_RUN, RUNNING])
    assert not is_pending(RUN_START - timedelta(minutes=1), facts, NOW)
    assert is_pending(RUN_START + timedelta(minutes=1), facts, NOW)
    assert is_pending(RUN_START, facts, NOW)  # the run may not have read it


def test_everything_is_pending_before_any_run_completed() -> None:
    assert is_pending(datetime(2000, 1, 1, tzinfo=UTC), FactSet.build(runs=[RUNNING]), NOW)
    assert is_pending_since(NOW, None)


def test_expected_student_carries_the_date_that_decides_pending() -> None:
    ip_today = ip("1", "Y", as_of=NOW - timedelta(hours=1))
    facts = FactSet.build(elps=[elp("Y")], ips=[ip_today], runs=[LAST_RUN])
    course = expected_for_elp(facts, "Y", NOW).course
    assert course is not None
    assert is_pending(course.students["1"].as_of, facts, NOW)


# --- R10 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (paris(2025, 11, 16, 9, 0), True),  # Sunday, winter time
        (paris(2025, 11, 16, 10, 59), True),
        (paris(2025, 11, 16, 11, 0), False),
        (paris(2025, 11, 16, 8, 59), False),
        (paris(2025, 6, 15, 9, 30), True),  # Sunday, summer time
        (paris(2025, 6, 14, 9, 30), False),  # Saturday
    ],
)
def test_database_failures_are_expected_on_sunday_from_9_to_11_paris_time(
    moment: datetime, inside: bool
) -> None:
    assert in_maintenance_window(moment.astimezone(UTC)) is inside


def test_next_window_is_given_in_utc_across_daylight_saving() -> None:
    window = maintenance_window_at_or_after(paris(2025, 10, 24, 12, 0))  # Friday before DST ends
    assert window.start == datetime(2025, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert window.end == datetime(2025, 10, 26, 10, 0, tzinfo=UTC)
    after = maintenance_window_at_or_after(paris(2025, 11, 16, 11, 30))
    assert after.start == datetime(2025, 11, 23, 8, 0, tzinfo=UTC)


def test_maintenance_window_is_configurable() -> None:
    config = ModelConfig(
        maintenance_weekday=2, maintenance_start=time(22), maintenance_end=time(23)
    )
    assert in_maintenance_window(paris(2025, 11, 19, 22, 30), config)
    assert not in_maintenance_window(paris(2025, 11, 16, 9, 30), config)


def test_refusal_of_a_change_made_today_is_pending_with_dated_evidence() -> None:
    changed_today = ip("1", "Y", as_of=NOW - timedelta(hours=2))
    facts = FactSet.build(
        elps=[elp("Y", has_teaching_load=False)], ips=[changed_today], runs=[LAST_RUN]
    )
    [refusal] = expected_for_elp(facts, "Y", NOW).refusals
    assert refusal.as_of == changed_today.as_of
    assert is_pending(refusal.as_of, facts, NOW)
    evidence = refusal.evidence()
    assert [e.rule for e in evidence] == ["R3.2", "R3.2"]
    assert evidence[0].fact == (
        "inscription pédagogique de l'étudiant 1 à Y, groupe aucun, à distance : non, année 2025"
    )
    assert evidence[0].as_of == changed_today.as_of
