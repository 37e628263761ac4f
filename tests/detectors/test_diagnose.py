"""diagnose: a support ticket answered from the state alone, in French (seed cases)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

import pytest
from model_builders import NOW, collection, elp, ip, with_collections
from moodle_builders import (
    LAST_NIGHT,
    LAST_WEEK,
    THIS_MORNING,
    accounts,
    course,
    enrolled,
    instances,
)

from detectors.base import DetectorConfig
from detectors.diagnose import Diagnosis, diagnose, render_text
from detectors.facts import AdeFiche, AdeSession, Group
from detectors.model import expected_for_elp
from detectors.state import FactSet

CONFIG = DetectorConfig()


def _causes(d: Diagnosis) -> list[str]:
    return [p.cause for p in d.points]


def _rcaed334() -> FactSet:
    """Seed "Mauvaise gestion statut à distance": IA distant, ELP N, group ELP_RCAED334_CM."""
    return FactSet.build(
        elps=[elp("RCAED334")],
        groups=[Group("ELP_RCAED334_CM", "CM")],
        ips=[ip("21500001", "RCAED334", "ELP_RCAED334_CM", distant=True, as_of=LAST_WEEK)],
        courses=[course(1, "RCAED334")],
        enrol_instances=instances(1),
        accounts=accounts(("21500001",)),
        runs=[LAST_NIGHT],
    )


def test_rcaed334_student_is_in_case_a_and_the_scolarite_must_fix_the_distance_status() -> None:
    d = diagnose(_rcaed334(), now=NOW, config=CONFIG, cod_elp="RCAED334", cod_etu="21500001")
    (fault,) = d.faults
    assert (fault.rule, fault.cause, fault.people) == ("R4", "foad_case_a", ("21500001",))
    assert "FOAD cas a" in fault.statement
    assert fault.fixer == "la scolarité de la composante 12 UFR HSS"
    assert "télé-enseignement" in fault.how
    assert not d.pending_tonight
    text = render_text(d)
    assert "Diagnostic — cours RCAED334, étudiant 21500001" in text
    assert (
        "inscription pédagogique de l'étudiant 21500001 à RCAED334, groupe ELP_RCAED334_CM, "
        "à distance : oui" in text
    )
    assert "10/11/2025 10:00" in text  # the IP's date, in Paris time
    assert "Qui peut corriger : la scolarité de la composante 12 UFR HSS." in text


IRAN = collection("IRAN-15C", {"IRAN-15-CEMU": "Groupe CEMU IRAN"}, ("IRAN-15",))


def _iran(
    *, ip_as_of: datetime = LAST_WEEK, in_moodle: bool = True, visible: bool = True
) -> FactSet:
    """Student 21609846, distance learning, CEMU group, distance ELP: seed's normal 1-1-1."""
    return with_collections(
        IRAN,
        elps=[elp("IRAN-15", a_distance=True)],
        ips=[ip("21609846", "IRAN-15", "IRAN-15-CEMU", distant=True, as_of=ip_as_of)],
        courses=[replace(course(2, "IRAN-15"), visible=visible)],
        enrol_instances=instances(2),
        enrolments=enrolled(2, "student", "21609846") if in_moodle else [],
        accounts=accounts(("21609846",)),
        runs=[LAST_NIGHT],
    )


def test_21609846_on_iran_15_is_enrolled_as_the_rules_say() -> None:
    d = diagnose(_iran(), now=NOW, config=CONFIG, cod_elp="IRAN-15", cod_etu="21609846")
    assert d.faults == ()
    assert "enrolled" in _causes(d)
    text = render_text(d)
    assert "Verdict : aucun problème : conforme aux règles de synchronisation." in text
    assert "groupe IRAN-15-CEMU : c'est le cas dans Ecampus" in text


def test_a_registration_made_this_morning_will_be_fixed_tonight() -> None:
    facts = _iran(ip_as_of=THIS_MORNING, in_moodle=False)
    d = diagnose(facts, now=NOW, config=CONFIG, cod_etu="21609846")
    assert d.pending_tonight and d.faults == ()
    (pending,) = [p for p in d.points if p.pending]
    assert pending.rule == "R9"
    assert "sera inscrit cette nuit" in pending.statement
    assert "sera corrigé par la synchronisation de cette nuit (R9)" in render_text(d)


def test_an_old_registration_missing_from_moodle_is_unexplained_and_goes_to_the_cemu() -> None:
    d = diagnose(_iran(in_moodle=False), now=NOW, config=CONFIG, cod_etu="21609846")
    (fault,) = d.faults
    assert fault.cause == "missing_after_run"
    assert fault.fixer == "le CEMU"
    assert "Insc. BDD" in fault.how


def test_m1ms03_suspended_suspends_every_database_enrolment_of_its_course() -> None:
    facts = FactSet.build(
        elps=[elp("M.1.MS03", status="suspended")],
        groups=[Group("ELP_M.1.MS03_CM")],
        ips=[ip(f"2180000{n}", "M.1.MS03", "ELP_M.1.MS03_CM", as_of=LAST_WEEK) for n in range(3)],
        courses=[course(3, "M.1.MS03")],
        enrol_instances=instances(3),
        accounts=accounts(tuple(f"2180000{n}" for n in range(3))),
        runs=[LAST_NIGHT],
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="M.1.MS03")
    (suspended,) = [p for p in d.points if p.cause == "elp_suspended"]
    assert suspended.rule == "R3.4" and suspended.fault
    assert len(suspended.people) == 3
    assert "3 étudiants" in suspended.statement
    assert "Rétablir l'élément dans APOGÉE" in suspended.how
    assert "suspendu" in render_text(d)


def test_a_suspension_older_than_last_night_still_enrolled_in_moodle_is_unexplained() -> None:
    facts = FactSet.build(
        elps=[elp("M.1.MS03", status="suspended")],
        groups=[Group("ELP_M.1.MS03_CM")],
        ips=[ip("21800001", "M.1.MS03", "ELP_M.1.MS03_CM", as_of=LAST_WEEK)],
        courses=[course(3, "M.1.MS03")],
        enrol_instances=instances(3),
        enrolments=enrolled(3, "student", "21800001"),
        accounts=accounts(("21800001",)),
        runs=[LAST_NIGHT],
    )
    d = diagnose(facts, now=NOW, config=CONFIG, cod_etu="21800001")
    stale = next(p for p in d.points if p.cause == "not_expected")
    assert stale.fixer == "le CEMU"
    assert "la dernière synchronisation aurait dû l'en retirer" in stale.statement


def _mutualised(*, shared: bool) -> FactSet:
    """Seed "relation porteur/porté": 2HR5C porté by M.1HRP9C, collection M.1HRP9CTD."""
    attached = ("M.1HRP9C", "2HR5C") if shared else ("M.1HRP9C",)
    groups = collection("M.1HRP9CTD", {"M.1HRP9CEM": "EM", "M.1HRP9CTD": "TD"}, attached)
    return with_collections(
        groups,
        elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")],
        ips=[ip("21700001", "2HR5C", "M.1HRP9CTD", as_of=LAST_WEEK)],
        courses=[course(4, "M.1HRP9C")],
        enrol_instances=instances(4),
        enrolments=enrolled(4, "student", "21700001") if shared else [],
        accounts=accounts(("21700001",)),
        runs=[LAST_NIGHT],
    )


def test_2hr5c_porte_by_m1hrp9c_without_a_shared_collection_loses_its_students() -> None:
    d = diagnose(_mutualised(shared=False), now=NOW, config=CONFIG, cod_elp="2HR5C")
    standing = d.points[0]
    assert (standing.rule, standing.cause, standing.fault) == ("R5", "elp_porte", False)
    assert "porté par M.1HRP9C" in standing.statement
    (fault,) = d.faults
    assert fault.cause == "porte_collection_not_shared"
    assert fault.people == ("21700001",)
    assert "associer cette collection au porteur et à tous les portés" in fault.how
    text = render_text(d)
    assert "groupe M.1HRP9CTD « TD », collection M.1HRP9CTD" in text
    assert "collection M.1HRP9CTD associée à M.1HRP9C" in text
    assert "associée à 2HR5C" not in text


def test_with_the_collection_shared_the_porte_student_is_in_the_porteur_course() -> None:
    d = diagnose(_mutualised(shared=True), now=NOW, config=CONFIG, cod_etu="21700001")
    assert d.faults == ()
    assert any("dans le cours M.1HRP9C" in p.statement for p in d.points)


def _teaching(*, planned: bool) -> FactSet:
    sessions = [AdeSession("S1", "F1", LAST_WEEK, ("ELP_X_CM",), ("T42",))] if planned else []
    return FactSet.build(
        elps=[elp("X")],
        groups=[Group("ELP_X_CM")],
        fiches=[AdeFiche("F1", "X", ("T42",), as_of=LAST_WEEK)],
        sessions=sessions,
        courses=[course(5, "X")],
        enrol_instances=instances(5),
        enrolments=enrolled(5, "teacher", "T42") if planned else [],
        accounts=accounts(teachers=("T42",)),
        runs=[LAST_NIGHT],
    )


def test_a_teacher_only_associated_in_ade_must_be_planned() -> None:
    d = diagnose(_teaching(planned=False), now=NOW, config=CONFIG, teacher="T42")
    (fault,) = d.faults
    assert (fault.rule, fault.cause) == ("R6", "teacher_associated_not_planned")
    assert "ressource « Enseignant »" in fault.how


def test_a_planned_teacher_enrolled_in_the_course_is_fine() -> None:
    d = diagnose(_teaching(planned=True), now=NOW, config=CONFIG, teacher="T42", cod_elp="X")
    assert d.faults == ()
    assert any("planifie T42" in p.statement for p in d.points)


def test_course_settings_found_by_the_daily_detectors_are_part_of_the_answer() -> None:
    facts = _iran(visible=False)  # still hidden as created (R1), its year started in September
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="IRAN-15")
    (hidden,) = [p for p in d.points if p.cause == "course_hidden:hidden_after_start"]
    assert hidden.fixer == "les enseignants du cours"
    assert "Visibilité du cours" in hidden.how


@dataclass(frozen=True)
class StoredAlert:
    id: int
    detector: str
    subject: str
    cause: str
    title: str
    status: str
    cod_elp: str | None


def test_the_open_alerts_of_the_course_are_listed() -> None:
    alerts = [
        StoredAlert(7, "students_not_enrolled", "RCAED334", "foad_case_a", "RCAED334 : cas a", "open", "RCAED334"),
        StoredAlert(8, "course_hidden", "OTHER", "hidden_after_start", "OTHER caché", "open", "OTHER"),
    ]  # fmt: skip
    d = diagnose(_rcaed334(), now=NOW, config=CONFIG, cod_etu="21500001", open_alerts=alerts)
    assert [a.id for a in d.alerts] == [7]
    assert "n°7 [open] RCAED334 : cas a" in render_text(d)


def test_the_api_form_is_json() -> None:
    d = diagnose(_rcaed334(), now=NOW, config=CONFIG, cod_elp="RCAED334", cod_etu="21500001")
    answer = json.loads(json.dumps(d.to_dict()))
    assert answer["course"] == "RCAED334" and answer["student"] == "21500001"
    assert answer["last_completed_run"] == "run-2025-11-17"
    assert answer["faults"] == 1
    fault = next(p for p in answer["points"] if p["fault"])
    assert fault["cause"] == "foad_case_a"
    assert fault["facts"][0]["as_of"] == LAST_WEEK.isoformat()
    assert answer["text"].startswith("Diagnostic")


def test_without_accounts_moodle_is_not_compared_and_the_answer_says_so() -> None:
    facts = FactSet.build(elps=[elp("X")], courses=[course(5, "X")], runs=[LAST_NIGHT])
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="X")
    assert "moodle_not_compared" in _causes(d)


def test_a_ticket_without_course_student_or_teacher_cannot_be_diagnosed() -> None:
    with pytest.raises(ValueError, match="course"):
        diagnose(FactSet(), now=NOW, config=CONFIG)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # it may build the session's university (tests/fixtures/university.py)
def test_diagnosis_answers_course_student_and_teacher_at_unicaen_scale(
    unicaen_facts: FactSet,
) -> None:
    # Its speed is a benchmark figure (scripts/bench_detectors.py), not an assertion.
    course = next(
        c
        for c in (
            expected_for_elp(unicaen_facts, code, NOW).course for code in sorted(unicaen_facts.elps)
        )
        if c is not None and c.students and c.teachers
    )
    cod_etu, teacher = sorted(course.students)[0], sorted(course.teachers)[0]
    course_answer = diagnose(unicaen_facts, now=NOW, config=CONFIG, cod_elp=course.idnumber)
    student_answer = diagnose(unicaen_facts, now=NOW, config=CONFIG, cod_etu=cod_etu)
    teacher_answer = diagnose(
        unicaen_facts, now=NOW, config=CONFIG, teacher=teacher, cod_elp=course.idnumber
    )
    assert course_answer.points and student_answer.points and teacher_answer.points
