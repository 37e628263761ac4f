"""course_hidden (seed "Cours cachés"; R1: courses are created hidden and empty)."""

from __future__ import annotations

from datetime import UTC, datetime

from model_builders import NOW, elp

from detectors.base import DetectorConfig
from detectors.facts import Elp, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, Period
from detectors.known.course_hidden import detect
from detectors.model import ModelConfig, PeriodCalendar
from detectors.state import FactSet

CONFIG = DetectorConfig(critical_affected=20)


def _hidden_course(
    period: Period = "S1",
    *,
    students: int = 25,
    visible: bool = False,
    startdate: datetime | None = None,
    current: bool = True,
) -> FactSet:
    row: Elp = elp("SOC-S1", period=period)
    course = MoodleCourse(7, "SOC-S1", fullname="Sociologie", visible=visible, startdate=startdate)
    return FactSet.build(
        elps=[row] if current else [],
        deleted_elps=[] if current else [row],
        courses=[course],
        enrol_instances=[MoodleEnrolInstance(1, 7, "database")],
        enrolments=[MoodleEnrolment(n, 1, f"s{n}") for n in range(students)],
    )


def test_hidden_course_of_a_started_semester_with_students_is_flagged() -> None:
    (finding,) = detect(_hidden_course(), now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "hidden_after_start"
    assert finding.audience == "teachers"
    assert finding.severity == "critical"  # 25 students already miss the course
    assert finding.affected_count == 25
    assert "01/09/2025" in finding.summary
    assert "« Visibilité du cours » sur « Afficher »" in finding.remediation


def test_second_semester_course_hidden_in_november_is_not_yet_a_problem() -> None:
    assert detect(_hidden_course("S2"), now=NOW, scope=None, config=CONFIG) == []


def test_the_start_of_each_period_is_configurable() -> None:
    early_s2 = DetectorConfig(model=ModelConfig(periods=PeriodCalendar(start_s2=(11, 1))))
    (finding,) = detect(_hidden_course("S2", students=3), now=NOW, scope=None, config=early_s2)
    assert finding.severity == "warning"
    assert "01/11/2025" in finding.summary


def test_the_course_start_date_wins_over_the_period() -> None:
    later = datetime(2025, 12, 1, tzinfo=UTC)
    assert detect(_hidden_course(startdate=later), now=NOW, scope=None, config=CONFIG) == []


def test_a_grace_period_after_the_start_can_be_configured() -> None:
    patient = DetectorConfig(course_hidden_grace_days=90)
    assert detect(_hidden_course(), now=NOW, scope=None, config=patient) == []


def test_visible_course_empty_course_and_obsolete_course_raise_nothing() -> None:
    for facts in (
        _hidden_course(visible=True),
        _hidden_course(students=0),
        _hidden_course(current=False),
    ):
        assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_a_scoped_pass_looks_only_at_its_elps() -> None:
    assert detect(_hidden_course(), now=NOW, scope=["OTHER"], config=CONFIG) == []
    assert len(detect(_hidden_course(), now=NOW, scope=["SOC-S1"], config=CONFIG)) == 1
