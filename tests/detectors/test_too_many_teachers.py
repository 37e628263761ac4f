"""too_many_teachers (R6, R7, R9; seed "Trop d'enseignants inscrits dans un espace de cours")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from model_builders import NOW, elp
from moodle_builders import (
    CONFIG,
    LAST_NIGHT,
    LAST_WEEK,
    THIS_MORNING,
    accounts,
    course,
    enrolled,
    instances,
    teacher_user,
)

from detectors.facts import (
    AdeFiche,
    AdeSession,
    ElpStatus,
    MoodleEnrolInstance,
    MoodleEnrolment,
    SyncRun,
)
from detectors.known.too_many_teachers import DETECTOR, detect
from detectors.state import FactSet

SESSION_DAY = datetime(2025, 11, 24, 8, tzinfo=UTC)


def _course_with(
    *database_teachers: str,
    fiche_as_of: datetime = LAST_WEEK,
    run: SyncRun = LAST_NIGHT,
    status: ElpStatus = "open",
    active: bool = True,
) -> FactSet:
    """Course X planned in ADE for dupont only, with ``database_teachers`` enrolled."""
    return FactSet.build(
        elps=[replace(elp("X", status=status), as_of=LAST_WEEK)],
        fiches=[AdeFiche("F1", "X", ("dupont", "martin"), fiche_as_of)],
        sessions=[AdeSession("S1", "F1", SESSION_DAY, (), ("dupont",), LAST_WEEK)],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "teacher", *database_teachers, active=active),
        accounts=accounts(teachers=("dupont", "martin", "durand")),
        runs=[run],
    )


def test_runs_after_each_sync_run() -> None:
    assert DETECTOR.moments == {"after_run"}


def test_teachers_enrolled_without_a_valid_planning_are_too_many() -> None:
    [finding] = detect(
        _course_with("dupont", "martin", "durand"), now=NOW, scope=None, config=CONFIG
    )
    assert (finding.subject, finding.cause, finding.course_id) == ("X", "without_planning", 7)
    assert finding.affected_count == 2 and finding.audience == "scolarite"
    assert teacher_user("durand") in finding.evidence[0].fact
    assert "durand" not in finding.title
    assert "association de toute l'équipe enseignante" in finding.remediation
    assert not finding.pending_until_next_run


def test_planned_teachers_are_not_too_many() -> None:
    assert detect(_course_with("dupont"), now=NOW, scope=None, config=CONFIG) == []


def test_manual_enrolments_are_the_teachers_own_business() -> None:
    facts = _course_with("dupont")
    manual = FactSet.build(
        elps=facts.elps.values(),
        fiches=facts.fiches.values(),
        sessions=facts.sessions,
        courses=facts.courses.values(),
        enrol_instances=[
            *facts.enrol_instances.values(),
            MoodleEnrolInstance(99, 7, "manual", "teacher"),
        ],
        enrolments=[*facts.enrolments, MoodleEnrolment(1, 99, teacher_user("durand"))],
        accounts=facts.accounts.values(),
        runs=facts.runs,
    )
    assert detect(manual, now=NOW, scope=None, config=CONFIG) == []


# R7: "le tuilage avec l'année précédente qui est active jusqu'à fin septembre",
# 30 September inclusive in Europe/Paris (UTC+2 in September).
@pytest.mark.parametrize(
    ("now", "raised"),
    [
        (datetime(2025, 9, 30, 10, 0, tzinfo=UTC), False),
        (datetime(2025, 9, 30, 21, 59, tzinfo=UTC), False),  # 23:59 in Paris
        (datetime(2025, 9, 30, 22, 0, tzinfo=UTC), True),  # 1 October, 00:00 in Paris
        (datetime(2025, 10, 1, 10, 0, tzinfo=UTC), True),
    ],
)
def test_extra_teachers_are_expected_until_the_end_of_the_overlap_on_30_september(
    now: datetime, raised: bool
) -> None:
    run = SyncRun(
        "r", datetime(2025, 9, 29, 1, tzinfo=UTC), datetime(2025, 9, 29, 2, tzinfo=UTC), "success"
    )
    found = detect(_course_with("dupont", "martin", run=run), now=now, scope=None, config=CONFIG)
    assert [f.cause for f in found] == (["without_planning"] if raised else [])


def test_a_planning_changed_since_the_last_run_makes_it_pending() -> None:
    facts = _course_with("dupont", "martin", fiche_as_of=THIS_MORNING)
    [finding] = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.pending_until_next_run and finding.phase == "predicted"
    assert "cette nuit" in finding.summary


def test_suspended_enrolments_are_nobodys_excess() -> None:
    # R3.4: the night suspended the course's database enrolments, planned or not.
    facts = _course_with("martin", "durand", status="suspended", active=False)
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_planned_teachers_of_a_suspended_course_are_not_too_many_before_a_run_suspends_them() -> (
    None
):
    # The last run failed (or has not run since the suspension): dupont's enrolment is
    # still active, and the model enrols nobody, yet ADE plans him.
    facts = _course_with("dupont", status="suspended")
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_a_teacher_without_planning_is_too_many_in_a_suspended_course_too() -> None:
    [finding] = detect(
        _course_with("dupont", "durand", status="suspended"), now=NOW, scope=None, config=CONFIG
    )
    assert finding.affected_count == 1
    assert teacher_user("durand") in finding.evidence[0].fact
