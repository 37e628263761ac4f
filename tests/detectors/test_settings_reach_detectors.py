"""Each documented rule setting, written as a university writes it (YAML, environment), changes
what a detector says: R7's overlap, R10's window and overrun, the period calendar, thresholds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from model_builders import NOW, elp
from test_course_hidden import _hidden_course
from test_forgotten_cohort_sync import _course_with as _course_with_cohort
from test_forgotten_cohort_sync import _instance, _members
from test_sync_run_health import DB_DOWN, SUNDAY, at, nights_before, run
from test_too_many_teachers import _course_with as _course_with_teachers

from detectors.base import DetectorConfig
from detectors.facts import MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, SyncRun
from detectors.known import (
    course_hidden,
    course_idnumber_changed,
    forgotten_cohort_sync,
    sync_run_health,
    too_many_teachers,
)
from detectors.state import FactSet
from monitor.config import ConfigError, load_settings


def from_yaml(tmp_path: Path, text: str) -> DetectorConfig:
    config = tmp_path / "ecampus-monitor.yaml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config).rules.detector_config()


def test_defaults_are_the_documented_ones() -> None:
    config = load_settings().rules.detector_config()
    assert config == DetectorConfig()
    assert config.model.year_overlap_until == (9, 30)
    assert config.model.maintenance_overrun == timedelta(minutes=30)
    assert config.model.periods.day("S2", "start") == (1, 15)


# --- R7: the year overlap ------------------------------------------------------------------

OCTOBER_10 = datetime(2025, 10, 10, 10, 0, tzinfo=UTC)
SEPTEMBER_RUN = SyncRun(
    "r", datetime(2025, 9, 29, 1, tzinfo=UTC), datetime(2025, 9, 29, 2, tzinfo=UTC), "success"
)


def _extra_teachers(config: DetectorConfig) -> list[str]:
    facts = _course_with_teachers("dupont", "martin", run=SEPTEMBER_RUN)
    found = too_many_teachers.detect(facts, now=OCTOBER_10, scope=None, config=config)
    return [f.cause for f in found]


def test_year_overlap_until_from_yaml_keeps_last_years_teachers_expected(tmp_path: Path) -> None:
    assert _extra_teachers(from_yaml(tmp_path, "rules: {}\n")) == ["without_planning"]
    longer = from_yaml(tmp_path, "rules:\n  year_overlap_until: 10-15\n")
    assert _extra_teachers(longer) == []


def test_year_overlap_until_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECAMPUS_MONITOR_RULES__YEAR_OVERLAP_UNTIL", "10-15")
    assert _extra_teachers(load_settings().rules.detector_config()) == []


# --- R10: the maintenance window and its overrun -------------------------------------------


def _failed_on_sunday(start: tuple[int, int], end: tuple[int, int]) -> FactSet:
    rerun = run(SUNDAY, start=start, end=end, status="failed", messages=DB_DOWN)
    return FactSet.build(runs=[*nights_before(SUNDAY), run(SUNDAY), rerun])


def _failure_alerted(facts: FactSet, now: datetime, config: DetectorConfig) -> bool:
    found = sync_run_health.detect(facts, now=now, scope=None, config=config)
    return any(f.cause == "run_failed" for f in found)


def test_a_failure_in_the_overrun_is_expected_and_the_overrun_is_configurable(
    tmp_path: Path,
) -> None:
    overran = _failed_on_sunday((11, 0), (11, 20))  # 20 minutes after 11:00
    later = _failed_on_sunday((11, 30), (11, 45))
    default = from_yaml(tmp_path, "rules: {}\n")
    assert not _failure_alerted(overran, at(SUNDAY, 11, 25), default)
    assert _failure_alerted(later, at(SUNDAY, 11, 50), default)
    patient = from_yaml(tmp_path, "rules:\n  maintenance_overrun_minutes: 60\n")
    assert not _failure_alerted(later, at(SUNDAY, 11, 50), patient)
    strict = from_yaml(tmp_path, "rules:\n  maintenance_overrun_minutes: 0\n")
    assert _failure_alerted(overran, at(SUNDAY, 11, 25), strict)


def test_the_maintenance_window_moves_with_its_settings(tmp_path: Path) -> None:
    inside_default = _failed_on_sunday((9, 20), (9, 30))
    assert not _failure_alerted(inside_default, at(SUNDAY, 9, 35), DetectorConfig())
    moved = from_yaml(
        tmp_path,
        'rules:\n  maintenance_weekday: 5\n  maintenance_start: "22:00"\n'
        '  maintenance_end: "23:00"\n',
    )
    assert _failure_alerted(inside_default, at(SUNDAY, 9, 35), moved)


# --- the period calendar -------------------------------------------------------------------


def test_the_period_calendar_from_yaml_moves_the_start_of_s2(tmp_path: Path) -> None:
    s2 = _hidden_course("S2", students=3)
    assert course_hidden.detect(s2, now=NOW, scope=None, config=DetectorConfig()) == []
    early = from_yaml(tmp_path, 'rules:\n  periods:\n    s2: {start: "11-01", end: "06-30"}\n')
    (finding,) = course_hidden.detect(s2, now=NOW, scope=None, config=early)
    assert "01/11/2025" in finding.summary


# --- thresholds ----------------------------------------------------------------------------


def test_cohort_age_threshold_from_yaml(tmp_path: Path) -> None:
    facts = _course_with_cohort(
        _instance(2, "cohort", age_days=120), enrolments=_members(2, ["s9"])
    )
    strict = from_yaml(tmp_path, "rules:\n  thresholds:\n    cohort_sync_max_age_days: 90\n")
    assert forgotten_cohort_sync.detect(facts, now=NOW, scope=None, config=DetectorConfig()) == []
    (finding,) = forgotten_cohort_sync.detect(facts, now=NOW, scope=None, config=strict)
    assert finding.cause == "cohort_too_old"


MONDAY = date(2025, 11, 17)


def test_run_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = FactSet.build(runs=nights_before(MONDAY))
    now = at(MONDAY, 8)
    missing = sync_run_health.detect(facts, now=now, scope=None, config=DetectorConfig())
    assert [f.cause for f in missing] == ["run_missing"]
    monkeypatch.setenv("ECAMPUS_MONITOR_RULES__THRESHOLDS__SYNC_RUN__DEADLINE", "09:00")
    relaxed = load_settings().rules.detector_config()
    assert sync_run_health.detect(facts, now=now, scope=None, config=relaxed) == []


def test_source_silence_and_spike_thresholds_from_yaml(tmp_path: Path) -> None:
    quiet_since = at(MONDAY, 9) - timedelta(hours=6)
    facts = FactSet.build(courses=[MoodleCourse(1, "X", as_of=quiet_since)])
    assert (
        sync_run_health.detect(facts, now=at(MONDAY, 9), scope=None, config=DetectorConfig()) == []
    )
    touchy = from_yaml(
        tmp_path,
        "rules:\n  thresholds:\n    sync_run:\n      silence_hours: {moodle: 4}\n"
        "      spike_factor: 2\n      working_days: [0, 1, 2, 3, 4, 5]\n",
    )
    found = sync_run_health.detect(facts, now=at(MONDAY, 9), scope=None, config=touchy)
    assert [(f.cause, f.subject) for f in found] == [("source_silent", "source:moodle")]
    assert touchy.run_health.spike_factor == 2.0
    assert touchy.run_health.working_days == frozenset(range(6))


# --- wrong settings are refused, naming themselves -----------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("rules:\n  year_overlap_until: 02-30\n", "rules.year_overlap_until"),
        ("rules:\n  maintenance_end: 11:00\n", "rules.maintenance_end"),  # YAML: 660
        ('rules:\n  maintenance_start: "12:00"\n', "maintenance_end must be after"),
        ("rules:\n  timezone: Europe/Pariss\n", "rules.timezone"),
        ("rules:\n  periods:\n    s1: {start: 13-01, end: 01-31}\n", "rules.periods.s1.start"),
        ("rules:\n  thresholds:\n    sync_run:\n      working_days: [7]\n", "working_days"),
    ],
)
def test_wrong_rule_settings_are_refused(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        from_yaml(tmp_path, text)


def test_severity_soon_days_from_yaml_makes_a_course_starting_in_three_weeks_urgent(
    tmp_path: Path,
) -> None:
    starts = NOW + timedelta(days=21)
    course = MoodleCourse(42, "AN-10A-v2", "AN-10A-EC1", "(AN-10A) EC1", startdate=starts)
    facts = FactSet.build(
        elps=[elp("AN-10A")],
        courses=[course],
        enrol_instances=[MoodleEnrolInstance(1, 42, "database")],
        enrolments=[MoodleEnrolment(n, 1, f"s{n}") for n in range(25)],
    )
    (later,) = course_idnumber_changed.detect(facts, now=NOW, scope=None, config=DetectorConfig())
    assert later.severity == "warning"  # 25 students, but the course starts in 21 days
    urgent = from_yaml(tmp_path, "rules:\n  thresholds:\n    severity_soon_days: 30\n")
    (soon,) = course_idnumber_changed.detect(facts, now=NOW, scope=None, config=urgent)
    assert soon.severity == "critical"
