"""R4, FOAD consistency: the seed's table "Synthèse des conséquences", row by row."""

from __future__ import annotations

import pytest
from model_builders import NOW, collection, elp, ip, with_collections

from detectors.facts import Group, Ia
from detectors.model import classify_foad, expected_for_elp
from detectors.model.foad import FOAD_TABLE

# case, G (group CEMU), E (ELP a_distance), I (IA distant),
# warning update_oof, error Insc. BDD, warning update_groups, not enrolled, no group
SEED_TABLE = [
    ("e", 1, 0, 1, 0, 1, None, 1, 1),
    ("a", 0, 0, 1, 0, 1, "w9", 1, 1),
    ("c", 0, 1, 1, 0, 0, "w9", 0, 1),
    ("d", 1, 0, 0, 0, 0, None, 0, 1),
    ("f", 1, 1, 0, 0, 0, None, 0, 1),
    ("normal", 0, 0, 0, 0, 0, None, 0, 0),
    ("b", 0, 1, 0, 0, 0, None, 0, 0),
    ("normal", 1, 1, 1, 0, 0, None, 0, 0),
]


@pytest.mark.parametrize(
    ("case", "g", "e", "i", "oof", "insc_bdd", "update_groups", "not_enrolled", "no_group"),
    SEED_TABLE,
)
def test_foad_case_and_consequences_follow_the_seed_table(
    case: str,
    g: int,
    e: int,
    i: int,
    oof: int,
    insc_bdd: int,
    update_groups: str | None,
    not_enrolled: int,
    no_group: int,
) -> None:
    outcome = classify_foad(bool(g), bool(e), bool(i))
    assert outcome.case == case
    consequences = outcome.consequences
    assert consequences.warning_update_oof is bool(oof)
    assert consequences.error_insc_bdd is bool(insc_bdd)
    assert consequences.warning_update_groups == update_groups
    assert outcome.not_enrolled is bool(not_enrolled)
    assert outcome.no_group is bool(no_group)


def test_the_table_covers_every_combination_of_flags() -> None:
    assert len(FOAD_TABLE) == 8


def test_pseudo_group_counts_as_not_cemu_whatever_its_label() -> None:
    as_labelled = classify_foad(True, False, True)
    as_pseudo = classify_foad(True, False, True, pseudo_group=True)
    assert as_labelled.case == "e"
    assert as_pseudo.case == "a"
    assert as_pseudo.group_cemu is False


def test_distant_students_in_pseudo_group_of_distance_elp_are_artificially_case_c() -> None:
    outcome = classify_foad(False, True, True, pseudo_group=True)
    assert outcome.case == "c"
    assert outcome.artificial
    assert not classify_foad(False, True, True).artificial


def test_seed_rcaed334_pseudo_group_elp_not_distant_ia_distant_is_case_a() -> None:
    facts = with_collections(
        elps=[elp("RCAED334", a_distance=False)],
        groups=(Group("ELP_RCAED334_CM"),),
        ips=[ip("22003136", "RCAED334", "ELP_RCAED334_CM", distant=True)],
    )
    result = expected_for_elp(facts, "RCAED334", NOW)
    assert result.course is not None
    assert result.course.students == {}
    [refusal] = result.refusals
    assert refusal.cause == "foad_case_a"
    assert refusal.blocks == "enrolment"
    assert refusal.foad is not None and refusal.foad.consequences.error_insc_bdd
    assert refusal.text == (
        "cas a : groupe ELP_RCAED334_CM non CEMU (pseudo-groupe automatique), "
        "élément RCAED334 présentiel, IA en télé-enseignement"
    )


def test_seed_student_21609846_on_iran15_cemu_group_distance_elp_is_enrolled() -> None:
    facts = with_collections(
        collection("IRAN-15C", {"IRAN-15G1": "Groupe 1 CEMU"}, ("IRAN-15",)),
        elps=[elp("IRAN-15", a_distance=True)],
        ips=[ip("21609846", "IRAN-15", "IRAN-15G1", distant=True)],
        ias=[Ia("IA1", "21609846", "L3ANG", 2025, tele_enseignement=True)],
    )
    course = expected_for_elp(facts, "IRAN-15", NOW).course
    assert course is not None
    assert course.students["21609846"].group_ids == {"IRAN-15G1"}
    assert course.refusals == ()


@pytest.mark.parametrize(
    ("label", "a_distance", "distant", "cause", "blocks"),
    [
        ("TD CEMU", False, True, "foad_case_e", "enrolment"),
        ("TD 1", False, True, "foad_case_a", "enrolment"),
        ("TD 1", True, True, "foad_case_c", "group"),
        ("TD CEMU", False, False, "foad_case_d", "group"),
        ("TD CEMU", True, False, "foad_case_f", "group"),
    ],
)
def test_foad_cases_a_e_refuse_the_enrolment_and_c_d_f_only_the_group(
    label: str, a_distance: bool, distant: bool, cause: str, blocks: str
) -> None:
    facts = with_collections(
        collection("XC", {"X_TD": label}, ("X",)),
        elps=[elp("X", a_distance=a_distance)],
        ips=[ip("1", "X", "X_TD", distant=distant)],
    )
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None
    student = result.course.students.get("1")
    if blocks == "enrolment":
        assert student is None
    else:
        assert student is not None and student.group_ids == frozenset()
    [refusal] = result.refusals
    assert (refusal.cause, refusal.blocks, refusal.group_id) == (cause, blocks, "X_TD")


def test_distant_students_in_pseudo_group_of_distance_elp_lose_only_the_group() -> None:
    facts = with_collections(
        elps=[elp("X", a_distance=True)],
        groups=(Group("ELP_X_CM"),),
        ips=[ip("1", "X", "ELP_X_CM", distant=True)],
    )
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None and "1" in result.course.students
    assert [r.cause for r in result.refusals] == ["distant_in_pseudo_group"]
