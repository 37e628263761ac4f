"""course_ended_early (seed "Configuration du tableau de bord")."""

from __future__ import annotations

from datetime import UTC, datetime

from model_builders import NOW, elp

from detectors.base import DetectorConfig
from detectors.facts import Elp, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.known.course_ended_early import detect
from detectors.state import FactSet

CONFIG = DetectorConfig()
LAST_JUNE = datetime(2025, 6, 30, tzinfo=UTC)


def _course(enddate: datetime | None, *, row: Elp | None = None, archived: bool = False) -> FactSet:
    row = row or elp("SOC-S1", period="S1")
    return FactSet.build(
        elps=[row],
        courses=[MoodleCourse(7, row.cod_elp, visible=True, enddate=enddate, archived=archived)],
        enrol_instances=[MoodleEnrolInstance(1, 7, "database")],
        enrolments=[MoodleEnrolment(n, 1, f"s{n}") for n in range(4)],
    )


def test_course_whose_end_date_passed_during_its_semester_leaves_the_dashboard() -> None:
    (finding,) = detect(_course(LAST_JUNE), now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "enddate_passed"
    assert finding.audience == "teachers"
    assert finding.affected_count == 4
    assert "30/06/2025" in finding.summary
    assert "« en cours »" in finding.remediation


def test_no_end_date_or_a_future_one_is_fine() -> None:
    for enddate in (None, datetime(2026, 2, 1, tzinfo=UTC)):
        assert detect(_course(enddate), now=NOW, scope=None, config=CONFIG) == []


def test_once_the_semester_is_over_an_end_date_is_expected() -> None:
    february = datetime(2026, 2, 10, 9, tzinfo=UTC)
    january = datetime(2026, 1, 20, tzinfo=UTC)
    assert detect(_course(january), now=february, scope=None, config=CONFIG) == []
    # A yearly ELP is still taught in February.
    yearly = elp("SOC-AN", period="year")
    (finding,) = detect(_course(january, row=yearly), now=february, scope=None, config=CONFIG)
    assert finding.subject == "SOC-AN"


def test_a_course_prepared_for_next_year_and_an_archived_course_raise_nothing() -> None:
    next_year = Elp("SOC-S1", "Sociologie", "12", period="S1", year=2026)
    assert detect(_course(LAST_JUNE, row=next_year), now=NOW, scope=None, config=CONFIG) == []
    assert detect(_course(LAST_JUNE, archived=True), now=NOW, scope=None, config=CONFIG) == []
