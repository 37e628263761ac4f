"""The synthetic university: seeded, sized as asked, and clean under the sync-rule model."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from simulation_fixtures import SNAPSHOT

from detectors.model import DEFAULT_CONFIG, expected_state
from monitor.simulation import University, generate_university, run_night
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.generate_moodle import CLEAN_COHORT_MAX_AGE_DAYS
from monitor.simulation.lmsjonction import NightOptions
from monitor.simulation.seed_cases import SEED_ELPS
from monitor.simulation.words import COMPOSANTES, DISCIPLINES, course_label


def test_same_seed_gives_the_same_university(clean_small: University) -> None:
    again = generate_university("small", 7, SNAPSHOT)
    assert again.tables == clean_small.tables
    assert again.etapes == clean_small.etapes


def test_another_seed_gives_another_university(clean_small: University) -> None:
    other = generate_university("small", 8, SNAPSHOT)
    assert other.tables["ip"] != clean_small.tables["ip"]


def test_small_is_about_300_elps_and_3000_students(clean_small: University) -> None:
    counts = clean_small.counts()
    assert counts["elp"] == 300 + len(SEED_ELPS)  # and the seed's own ELPs
    students = {a.cod_etu for a in clean_small.accounts.values() if a.kind == "student"}
    assert len(students) == 3_000 + 1  # and the seed's student 21609846
    assert 30_000 <= counts["ip"] <= 50_000  # about 13 IPs a student, as at Unicaen
    assert 3_000 <= counts["ade_session"] <= 6_000
    assert 280 <= counts["moodle_course"] <= 340
    assert 35_000 <= counts["moodle_enrolment"] <= 60_000


def test_every_shape_of_the_seed_is_represented(clean_small: University) -> None:
    uni = clean_small
    kinds = Counter(uni.elp_kind.values())
    assert {"real", "pseudo", "no_load", "porte"} <= kinds.keys()
    assert Counter(e.kind for e in uni.etapes.values()).keys() == {
        "presential",
        "mixed",
        "distance",
    }
    assert any(g.is_cemu for g in uni.groups.values())
    assert any(g.is_pseudo for g in uni.groups.values())
    ias = list(uni.ias.values())
    assert any(ia.tele_enseignement for ia in ias)
    assert {ia.exchange_direction for ia in ias} >= {"incoming", "outgoing"}
    assert any(ia.status == "cancelled" for ia in ias)
    assert any(f.cod_elp is None for f in uni.fiches.values())  # fiches made only in ADE
    assert {a.kind for a in uni.accounts.values()} == {"student", "staff", "guest", "vacataire"}
    methods = {i.method for i in uni.instances.values()}
    # No cohort sync: in a clean university its members would be redundant or without IP.
    assert methods == {"database", "manual", "self"}
    assert any(c.archived for c in uni.courses.values())
    assert any(not c.visible for c in uni.courses.values() if not c.archived)


def test_some_teachers_are_associated_without_planning_on_a_fiche(clean_small: University) -> None:
    uni = clean_small
    unplanned = [
        (fiche.fiche_id, teacher)
        for fiche in uni.fiches.values()
        for teacher in fiche.teachers
        if all(
            teacher not in uni.sessions[s].teachers for s in uni.sessions_by_fiche[fiche.fiche_id]
        )
    ]
    assert unplanned


def test_a_clean_university_has_no_fault_under_the_model(clean_small: University) -> None:
    state = expected_state(clean_small.fact_set(), SNAPSHOT + timedelta(hours=2), DEFAULT_CONFIG)
    causes = Counter(r.cause for r in state.refusals())
    assert set(causes) <= {"outgoing_exchange"}  # deliberate (R3.5), not a fault
    assert causes["outgoing_exchange"] > 0
    assert state.course_actions == ()


def test_a_clean_university_gives_lmsjonction_nothing_to_do(clean_small: University) -> None:
    uni = generate_university("small", 7, SNAPSHOT)
    result = run_night(
        uni,
        NightOptions("check", SNAPSHOT + timedelta(hours=2)),
        AcademicCalendar.around(SNAPSHOT, DEFAULT_CONFIG),
    )
    assert result.changes == 0
    assert result.finished.messages == []
    assert result.finished.counters.created == 0


def test_moodle_hygiene_of_a_clean_university(clean_small: University) -> None:
    """What people did by hand, they did right: the daily detectors find nothing."""
    uni = clean_small
    for enrolment in uni.enrolments.values():
        instance = uni.instances[enrolment.enrol_id]
        if instance.method in ("manual", "self"):
            assert enrolment.timeend is not None
    for instance in uni.instances.values():
        if instance.method != "cohort":
            continue
        course = uni.courses[instance.course_id]
        assert not course.archived and course.idnumber in uni.elps
        assert instance.created is not None
        assert SNAPSHOT - instance.created <= timedelta(days=CLEAN_COHORT_MAX_AGE_DAYS)
        members = set(uni.users_by_instance[instance.enrol_id])
        assert members.isdisjoint(uni.database_users(course.course_id))
    cal = AcademicCalendar.around(SNAPSHOT, DEFAULT_CONFIG)
    for course in uni.courses.values():
        if course.archived:
            continue
        elp = uni.elps[course.idnumber]
        if cal.period_started(elp.period, SNAPSHOT) and uni.database_users(course.course_id):
            assert course.visible, course.idnumber
        assert course.enddate is not None and course.enddate > SNAPSHOT
    for account in uni.accounts.values():
        assert account.email


@pytest.mark.parametrize("scale", ["small"])
def test_generation_refuses_a_naive_time(scale: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_university(scale, 1, SNAPSHOT.replace(tzinfo=None))


def test_course_labels_are_correct_french(clean_small: University) -> None:
    """The article and the agreement follow the discipline (the demo's emails quote them)."""
    assert {d for c in COMPOSANTES for d in c[4]} <= set(DISCIPLINES)
    assert course_label(("Théories", "de"), "droit pénal", " comparé{}") == (
        "Théories du droit pénal comparé"
    )
    assert course_label(("Introduction", "à"), "histoire", "") == "Introduction à l'histoire"
    assert (
        course_label(("Initiation", "à"), "arts", " appliqué{}") == "Initiation aux arts appliqués"
    )
    assert course_label(("Séminaire", "de, no article"), "économie", "") == "Séminaire d'économie"
    assert course_label(("Enjeux", "de"), "neurosciences", " approfondi{}") == (
        "Enjeux des neurosciences approfondies"
    )
    assert course_label(("Stage", "en"), "chimie", "") == "Stage en chimie"
    masculine = [d for d, gender in DISCIPLINES.items() if gender == "m"]
    labels = [elp.label for elp in clean_small.elps.values()]
    assert not [
        label
        for label in labels
        for d in masculine
        if f"de la {d}" in label or f"à la {d}" in label
    ]
    assert not [label for label in labels if " de a" in label or " de é" in label]
