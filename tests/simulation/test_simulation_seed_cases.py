"""The seed's own examples in the synthetic university: clean at first, then broken as told."""

from __future__ import annotations

from datetime import timedelta

from simulation_fixtures import PlayedSimulation

from detectors.model import expected_for_elp, expected_for_student
from monitor.simulation import FaultConfig, University
from monitor.simulation.seed_cases import (
    COLLECTION,
    DISTANCE_STUDENT,
    IRAN15,
    MS03,
    PORTE,
    PORTEUR,
    RCAED334,
)

SEED_FAULTS = {
    "seed_cases.rcaed334_foad_case_a": ("foad_case_a", RCAED334),
    "seed_cases.ms03_suspended": ("elp_suspended", MS03),
    "seed_cases.hr5c_collection_not_shared": ("porte_collection_not_shared", PORTE),
}


def test_the_seed_s_elps_are_there_as_the_seed_shows_them(clean_small: University) -> None:
    uni = clean_small
    rcaed = uni.elps[RCAED334]
    assert not rcaed.a_distance and rcaed.has_teaching_load
    assert {uni.ips[(e, RCAED334)].group_id for e in uni.ips_by_elp[RCAED334]} == {
        "ELP_RCAED334_CM"
    }
    assert uni.elps[MS03].label == "Théories chang. social" and uni.elps[MS03].status == "open"
    assert uni.elps[PORTE].porteur == PORTEUR
    assert uni.groups_by_collection[COLLECTION] == {"M.1HRP9CEM", "M.1HRP9CTD"}
    assert COLLECTION in uni.links_by_elp[PORTEUR] and COLLECTION in uni.links_by_elp[PORTE]
    # 21609846: IA in télé-enseignement, IRAN-15 at distance, a group labelled CEMU.
    ia = uni.active_ia(DISTANCE_STUDENT)
    assert ia is not None and ia.tele_enseignement
    ip = uni.ips[(DISTANCE_STUDENT, IRAN15)]
    assert uni.elps[IRAN15].a_distance and ip.distant
    assert ip.group_id is not None and uni.groups[ip.group_id].is_cemu


def test_every_seed_case_gets_its_course_and_nothing_is_refused(clean_small: University) -> None:
    uni = clean_small
    facts = uni.fact_set()
    now = max(r.as_of for r in uni.courses.values()) + timedelta(hours=1)
    for code in (RCAED334, IRAN15, MS03, PORTEUR, PORTE):
        expectation = expected_for_elp(facts, code, now)
        assert expectation.course is not None and expectation.refusals == (), code
    assert uni.live_course(PORTE) is None  # porté: in its porteur's course (R5)
    student = expected_for_student(facts, DISTANCE_STUDENT, now)
    assert student.courses[IRAN15].group_ids == {f"{IRAN15}EM"}
    assert student.refusals == ()


def test_the_seed_cases_are_broken_once_each_with_their_ground_truth(
    every_fault_tiny: PlayedSimulation,
) -> None:
    truth = every_fault_tiny.simulation.truth
    primary = {r.fault: (r.cause, r.expected_alert_subject) for r in truth if r.primary}
    for fault, expected in SEED_FAULTS.items():
        assert primary[fault] == expected
    # Each student loss is an enrolment lost tonight too; the suspension takes the teachers.
    seeded = {(r.detector, r.expected_alert_subject) for r in truth if r.fault in SEED_FAULTS}
    assert {("enrolments_lost", RCAED334), ("enrolments_lost", PORTE)} <= seeded
    assert ("teacher_missing", MS03) in seeded
    assert all(IRAN15 not in (r.cod_elp, r.expected_alert_subject) for r in truth)


def test_seed_cases_count_once_at_most_and_can_be_left_out() -> None:
    twice = FaultConfig.every_kind(2)
    assert {n for d, _v, n in twice.counts() if d == "seed_cases"} == {1}
    assert {n for d, _v, n in FaultConfig.none().counts() if d == "seed_cases"} == {0}
    without = FaultConfig.model_validate({"seed_cases": {"ms03_suspended": 0}})
    assert without.seed_cases.ms03_suspended == 0 and without.seed_cases.rcaed334_foad_case_a == 1
