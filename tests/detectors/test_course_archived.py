"""course_archived (R2, R5, R8; seed section "Cours archivé")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detectors.base import DetectorConfig
from detectors.facts import Elp, MoodleCourse, MoodleEnrolInstance, MoodleEnrolment
from detectors.known.course_archived import detect
from detectors.state import FactSet

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TODAY = NOW - timedelta(hours=3)
CONFIG = DetectorConfig(critical_affected=20)


def _elp(code: str, label: str = "Sociologie urbaine", porteur: str | None = None) -> Elp:
    return Elp(cod_elp=code, label=label, cod_cmp="12", porteur=porteur, as_of=TODAY)


def _course(code: str, *, archived: bool = False, as_of: datetime = TODAY) -> MoodleCourse:
    return MoodleCourse(
        course_id=7, idnumber=code, fullname="Sociologie", archived=archived, as_of=as_of
    )


def _enrolments(students: int, teachers: int) -> dict[str, list[object]]:
    instances = [
        MoodleEnrolInstance(enrol_id=1, course_id=7, method="database", role="student"),
        MoodleEnrolInstance(enrol_id=2, course_id=7, method="database", role="teacher"),
    ]
    enrolments = [
        MoodleEnrolment(enrolment_id=i, enrol_id=1, user=f"s{i}") for i in range(students)
    ]
    enrolments += [
        MoodleEnrolment(enrolment_id=1000 + i, enrol_id=2, user=f"t{i}") for i in range(teachers)
    ]
    return {"enrol_instances": instances, "enrolments": enrolments}


def test_elp_removed_today_predicts_the_archive_with_who_loses_access() -> None:
    facts = FactSet.build(
        deleted_elps=[_elp("HSS-L2-SOC")], courses=[_course("HSS-L2-SOC")], **_enrolments(27, 2)
    )
    (finding,) = detect(facts, now=NOW, scope=["HSS-L2-SOC"], config=CONFIG)
    assert finding.phase == "predicted"
    assert finding.cause == "removed_from_offer"
    assert "sera archivé cette nuit" in finding.title
    assert "27 étudiants et 2 enseignants vont perdre" in finding.summary
    assert finding.severity == "critical"
    assert finding.audience == "scolarite"
    assert finding.cod_cmp == "12"
    assert finding.pending_until_next_run is False
    assert any(e.rule == "R2" and e.as_of == TODAY for e in finding.evidence)


def test_new_elp_with_same_label_and_composante_means_the_code_changed() -> None:
    facts = FactSet.build(
        elps=[_elp("DRT-CIV2", label="Droit civil")],
        deleted_elps=[_elp("DRT-CIV", label="Droit  civil")],
        courses=[_course("DRT-CIV")],
    )
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.cause == "code_changed"
    assert "DRT-CIV2" in finding.remediation
    assert finding.severity == "info"  # nobody enrolled


def test_elp_become_porte_archives_its_course() -> None:
    facts = FactSet.build(elps=[_elp("2HR5C", porteur="M.1HRP9C")], courses=[_course("2HR5C")])
    (finding,) = detect(facts, now=NOW, scope=["2HR5C"], config=CONFIG)
    assert finding.cause == "became_porte"
    assert "M.1HRP9C" in finding.remediation


def test_archived_course_after_the_run_is_reported_as_done() -> None:
    facts = FactSet.build(
        deleted_elps=[_elp("HSS-L2-SOC")], courses=[_course("HSS-L2-SOC", archived=True)]
    )
    (finding,) = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert finding.phase == "occurred"
    assert "a été archivé" in finding.title
    # Same problem, same alert: the prediction and the fact share the fingerprint.
    predicted = detect(
        FactSet.build(deleted_elps=[_elp("HSS-L2-SOC")], courses=[_course("HSS-L2-SOC")]),
        now=NOW,
        scope=None,
        config=CONFIG,
    )[0]
    assert predicted.fingerprint == finding.fingerprint


def test_archive_older_than_the_lookback_is_not_reported() -> None:
    old = NOW - timedelta(days=30)
    facts = FactSet.build(
        deleted_elps=[_elp("X")], courses=[_course("X", archived=True, as_of=old)]
    )
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


@pytest.mark.parametrize("archived", [False, True])
def test_course_of_a_current_elp_raises_nothing(archived: bool) -> None:
    # A current ELP keeps its course; an archived one comes back (unarchived) tonight.
    facts = FactSet.build(elps=[_elp("RCAED334")], courses=[_course("RCAED334", archived=archived)])
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []


def test_scope_limits_the_pass_to_the_dirty_elps() -> None:
    facts = FactSet.build(deleted_elps=[_elp("A")], courses=[_course("A")])
    assert detect(facts, now=NOW, scope=["B"], config=CONFIG) == []


def test_an_idnumber_refer_never_showed_is_left_to_course_idnumber_changed() -> None:
    facts = FactSet.build(courses=[_course("AN-10A"), _course("AN-10B", archived=True)])
    assert detect(facts, now=NOW, scope=None, config=CONFIG) == []
