"""forgotten_cohort_sync (seed: "Puis-je me dépanner en synchronisant une cohorte…", R1-R3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from model_builders import NOW, elp

from detectors.base import DetectorConfig
from detectors.facts import EnrolMethod, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment, Role
from detectors.known.forgotten_cohort_sync import detect
from detectors.state import FactSet

CONFIG = DetectorConfig()
COURSE = 7


def _instance(
    enrol_id: int, method: EnrolMethod, *, role: Role = "student", age_days: int = 30
) -> MoodleEnrolInstance:
    return MoodleEnrolInstance(
        enrol_id,
        COURSE,
        method,
        role=role,
        cohort_id=enrol_id * 10 if method == "cohort" else None,
        created=NOW - timedelta(days=age_days),
    )


def _members(
    enrol_id: int, users: list[str], timeend: datetime | None = None
) -> list[MoodleEnrolment]:
    return [
        MoodleEnrolment(enrol_id * 1000 + n, enrol_id, user, timeend=timeend)
        for n, user in enumerate(users)
    ]


def _course_with(
    *instances: MoodleEnrolInstance,
    enrolments: list[MoodleEnrolment],
    archived: bool = False,
    elp_current: bool = True,
) -> FactSet:
    code = "HSS-L2-SOC"
    return FactSet.build(
        elps=[elp(code)] if elp_current else [],
        deleted_elps=[] if elp_current else [elp(code)],
        courses=[MoodleCourse(COURSE, code, fullname="Sociologie", archived=archived)],
        enrol_instances=[_instance(1, "database"), *instances],
        enrolments=enrolments,
    )


def test_cohort_whose_members_are_all_enrolled_by_the_database_method_is_redundant() -> None:
    facts = _course_with(
        _instance(2, "cohort"),
        enrolments=_members(1, ["s1", "s2", "s3"]) + _members(2, ["s1", "s2"]),
    )
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "cohort_redundant"
    assert finding.subject == "HSS-L2-SOC"
    assert finding.audience == "teachers"
    assert finding.affected_count == 2
    assert "il faut penser à la retirer du cours" in finding.remediation


def test_cohort_still_bridging_students_the_database_method_misses_is_left_alone() -> None:
    facts = _course_with(
        _instance(2, "cohort"), enrolments=_members(1, ["s1"]) + _members(2, ["s1", "s9"])
    )
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_cohort_in_an_archived_course_keeps_an_obsolete_course_alive() -> None:
    facts = _course_with(_instance(2, "cohort"), enrolments=_members(2, ["s9"]), archived=True)
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "cohort_in_obsolete_course"
    assert finding.severity == "warning"
    assert "activité « artificielle »" in finding.remediation


def test_cohort_in_the_course_of_an_elp_gone_from_the_offer_is_obsolete_before_tonight() -> None:
    facts = _course_with(_instance(2, "cohort"), enrolments=_members(2, ["s9"]), elp_current=False)
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "cohort_in_obsolete_course"


def test_cohort_older_than_the_configured_age_is_flagged() -> None:
    facts = _course_with(_instance(2, "cohort", age_days=120), enrolments=_members(2, ["s9"]))
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []  # default: 180 days
    strict = DetectorConfig(cohort_sync_max_age_days=90)
    (finding,) = detect(facts, now=NOW, scope=None, config=strict)
    assert finding.cause == "cohort_too_old"
    assert "plus de 90 jours" in finding.remediation


def test_manual_and_self_enrolments_without_end_date_are_one_finding_per_course() -> None:
    facts = _course_with(
        _instance(3, "manual"),
        _instance(4, "self"),
        enrolments=_members(3, ["e1", "e2"])
        + _members(4, ["e3"])
        + [MoodleEnrolment(9999, 3, "e5", timeend=NOW + timedelta(days=30))],
    )
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "enrolment_without_end"
    assert finding.affected_count == 3  # e5 has an end date
    assert "il est impératif de limiter ces inscriptions dans le temps" in finding.remediation


def test_teachers_enrolled_by_hand_without_end_date_are_normal() -> None:
    facts = _course_with(_instance(3, "manual", role="teacher"), enrolments=_members(3, ["t1"]))
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_a_scoped_pass_looks_only_at_the_dirty_courses() -> None:
    facts = _course_with(_instance(2, "cohort"), enrolments=_members(2, ["s9"]), archived=True)
    assert detect(facts, now=NOW, scope=["OTHER"], config=CONFIG) == []
    assert len(detect(facts, now=NOW, scope=["HSS-L2-SOC"], config=CONFIG)) == 1
