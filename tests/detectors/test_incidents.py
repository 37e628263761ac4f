"""One incident per course and root cause: findings of several detectors fold into one."""

from __future__ import annotations

from dataclasses import replace

from detectors.findings import Evidence, Finding
from detectors.incidents import merge_incidents

_BASE = Finding(
    detector="students_not_enrolled",
    subject="M.1.MS03",
    cause="elp_suspended",
    title="M.1.MS03 « Théories chang. social » : 24 étudiants non inscrits — Élément suspendu",
    summary="24 étudiants inscrits pédagogiquement à M.1.MS03 ne sont pas inscrits.",
    remediation="Rétablissez l'élément.",
    severity="warning",
    audience="scolarite",
    phase="predicted",
    cod_cmp="12",
    cod_elp="M.1.MS03",
    affected_count=24,
    pending_until_next_run=True,
    evidence=(
        Evidence("R3.4", "24 étudiants concernés : …"),
        Evidence("R3.4", "étudiant", who="22300027", group="M.1.MS03TD2"),
    ),
)


def test_students_not_enrolled_and_enrolments_lost_are_one_alert_observed_in_the_morning() -> None:
    lost = replace(
        _BASE,
        detector="enrolments_lost",
        title="M.1.MS03 : 27 inscriptions perdues",
        summary="La synchronisation a retiré 27 inscriptions par base de données.",
        severity="critical",
        phase="occurred",
        affected_count=27,
        pending_until_next_run=False,
        evidence=(Evidence("R3.4", "inscription supprimée", who="ARoussel"),),
    )
    [merged] = merge_incidents([lost, _BASE])
    assert merged.fingerprint == _BASE.fingerprint  # the thread predicted before the night
    assert merged.phase == "occurred" and not merged.pending_until_next_run
    assert merged.severity == "critical" and merged.affected_count == 27
    assert "Constaté ce matin : la synchronisation a retiré 27 inscriptions" in merged.summary
    assert {e.who for e in merged.evidence if e.is_person} == {"22300027", "ARoussel"}


def test_teachers_of_the_same_suspended_element_join_the_students_alert() -> None:
    teachers = replace(
        _BASE,
        detector="teacher_missing",
        summary="2 enseignants de M.1.MS03 ne sont pas inscrits.",
        affected_count=2,
        evidence=(Evidence("R3.4", "enseignant", who="T1", email="t1@univ.fr"),),
    )
    [merged] = merge_incidents([teachers, _BASE])
    assert merged.detector == "students_not_enrolled" and merged.affected_count == 26
    assert "2 enseignants" in merged.summary


def test_other_courses_causes_and_detectors_stay_apart() -> None:
    other_cause = replace(_BASE, detector="enrolments_lost", cause="ip_without_group")
    other_course = replace(_BASE, detector="enrolments_lost", subject="X")
    hidden = replace(_BASE, detector="course_hidden", cause="hidden_after_start")
    unexplained = replace(_BASE, detector="enrolments_lost", cause="unexplained")
    found = [_BASE, other_cause, other_course, hidden, unexplained]
    assert merge_incidents(found) == found


def test_a_course_not_created_joins_its_students_left_without_a_pseudo_group() -> None:
    students = replace(
        _BASE,
        subject="HSL3NEW2",
        cod_elp="HSL3NEW2",
        cause="no_pseudo_group",
        summary="1 étudiant inscrit pédagogiquement à HSL3NEW2 n'est pas inscrit.",
        affected_count=1,
        evidence=(Evidence("R3.3", "étudiant", who="22600460"),),
    )
    course = replace(
        students,
        detector="course_archived",
        cause="course_not_created",
        summary="Le cours HSL3NEW2 ne sera pas créé cette nuit.",
        evidence=(Evidence("R1", "aucun groupe ni charge d'enseignement"),),
    )
    [merged] = merge_incidents([course, students])
    assert merged.fingerprint == students.fingerprint
    assert merged.affected_count == 1
    assert "ne sera pas créé cette nuit" in merged.summary
    assert "aucun groupe ni charge d'enseignement" in {e.fact for e in merged.evidence}
    # Another course's creation problem stays its own alert.
    elsewhere = replace(course, subject="HSL3NEW9", cod_elp="HSL3NEW9")
    assert len(merge_incidents([elsewhere, students])) == 2
