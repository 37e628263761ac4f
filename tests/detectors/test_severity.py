"""Severity: how many lose access, and how close the course's start is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from model_builders import NOW, elp
from moodle_builders import course

from detectors.facts import AdeFiche, AdeSession
from detectors.findings import Severity
from detectors.shared.severity import at_most, course_start, severity_for
from detectors.state import FactSet

STARTED = NOW - timedelta(days=60)
NEXT_WEEK = NOW + timedelta(days=7)
IN_TWO_MONTHS = NOW + timedelta(days=60)


@pytest.mark.parametrize(
    ("affected", "start", "severity"),
    [
        (0, STARTED, "info"),
        (3, STARTED, "warning"),
        (20, STARTED, "critical"),
        (20, NEXT_WEEK, "critical"),
        (20, None, "critical"),
        (3, IN_TWO_MONTHS, "info"),
        (20, IN_TWO_MONTHS, "warning"),
    ],
)
def test_severity_grows_with_people_and_with_the_start_drawing_near(
    affected: int, start: datetime | None, severity: Severity
) -> None:
    assert severity_for(affected, start, NOW) == severity


def test_a_group_only_consequence_is_capped() -> None:
    assert at_most("critical", "warning") == "warning"
    assert at_most("info", "warning") == "info"


def test_course_start_is_moodles_start_date_else_the_first_ade_session() -> None:
    first = datetime(2026, 1, 12, 8, tzinfo=UTC)
    facts = FactSet.build(
        elps=[elp("S2ELP", period="S2")],
        fiches=[AdeFiche("F1", "S2ELP")],
        sessions=[
            AdeSession("b", "F1", first + timedelta(days=7)),
            AdeSession("a", "F1", first),
        ],
        courses=[course(1, "S2ELP"), course(2, "OTHER", startdate=STARTED)],
    )
    assert course_start(facts, "S2ELP", 1) == first
    assert course_start(facts, "OTHER", 2) == STARTED
    assert course_start(facts, None, None) is None
