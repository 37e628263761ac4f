"""R3 with R5: which students the database method enrols, and why the others are not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from model_builders import NOW, collection, elp, ip, with_collections

from detectors.facts import Group, Ia, Period
from detectors.model import (
    ModelConfig,
    expected_for_elp,
    expected_for_student,
    expected_state,
)
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1", "X_TD2": "TD 2"}, ("X",))


def test_ip_down_to_the_group_is_enrolled_in_that_group() -> None:
    facts = with_collections(TD, elps=[elp("X")], ips=[ip("1", "X", "X_TD2")])
    course = expected_for_elp(facts, "X", NOW).course
    assert course is not None
    assert course.students["1"].group_ids == {"X_TD2"}
    assert course.group_ids == {"X_TD2"}


def test_ip_without_group_is_not_enrolled() -> None:
    facts = with_collections(TD, elps=[elp("X")], ips=[ip("1", "X")])
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None and result.course.students == {}
    [refusal] = result.refusals
    assert refusal.cause == "ip_without_group"
    assert refusal.text == (
        "l'inscription pédagogique à X n'a pas de groupe, alors que l'élément a les groupes "
        "[X_TD1, X_TD2]"
    )


def test_elp_without_groups_but_teaching_load_puts_every_student_in_its_pseudo_group() -> None:
    facts = FactSet.build(
        elps=[elp("Y", has_teaching_load=True)],
        groups=[Group("ELP_Y_CM")],
        ips=[ip("1", "Y"), ip("2", "Y", "ELP_Y_CM")],
    )
    course = expected_for_elp(facts, "Y", NOW).course
    assert course is not None
    assert {s.cod_etu: s.group_ids for s in course.students.values()} == {
        "1": {"ELP_Y_CM"},
        "2": {"ELP_Y_CM"},
    }


def test_elp_without_groups_nor_teaching_load_has_no_pseudo_group_and_no_enrolment() -> None:
    facts = FactSet.build(elps=[elp("Y", has_teaching_load=False)], ips=[ip("1", "Y")])
    result = expected_for_elp(facts, "Y", NOW)
    assert result.course is not None and result.course.students == {}
    assert [r.cause for r in result.refusals] == ["no_pseudo_group"]


def test_ip_left_on_the_pseudo_group_after_real_groups_appear_is_not_enrolled() -> None:
    facts = with_collections(
        TD, elps=[elp("X")], groups=(Group("ELP_X_CM"),), ips=[ip("1", "X", "ELP_X_CM")]
    )
    [refusal] = expected_for_elp(facts, "X", NOW).refusals
    assert refusal.cause == "ip_without_group"
    assert "pseudo-groupe ELP_X_CM" in refusal.text


def test_student_with_one_good_row_is_enrolled_despite_a_row_without_group() -> None:
    facts = with_collections(TD, elps=[elp("X")], ips=[ip("1", "X"), ip("1", "X", "X_TD1")])
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None and result.course.students["1"].group_ids == {"X_TD1"}
    assert result.refusals == ()


# --- R5: the seed's example, 2HR5C porté by M.1HRP9C -------------------------------------

PORTEUR, PORTE = "M.1HRP9C", "2HR5C"
GROUPS = {"M.1HRP9CEM": "EM", "M.1HRP9CTD": "TD"}


def _mutualised(attached_to: tuple[str, ...]) -> FactSet:
    return with_collections(
        collection("M.1HRP9CTD", GROUPS, attached_to),
        elps=[elp(PORTEUR), elp(PORTE, porteur=PORTEUR)],
        ips=[ip("A", PORTEUR, "M.1HRP9CEM"), ip("B", PORTE, "M.1HRP9CTD"), ip("C", PORTE)],
    )


def test_porte_students_in_a_shared_collection_reach_the_porteur_course() -> None:
    result = expected_for_elp(_mutualised((PORTEUR, PORTE)), PORTE, NOW)
    assert result.standing == "porte"
    assert result.course is not None and result.course.idnumber == PORTEUR
    assert result.course.portes == (PORTE,)
    assert result.course.students["B"].group_ids == {"M.1HRP9CTD"}
    assert result.course.students["B"].via_elps == {PORTE}
    assert "A" in result.course.students
    [refusal] = result.refusals
    assert (refusal.cause, refusal.who, refusal.course_idnumber) == (
        "ip_without_group",
        "C",
        PORTEUR,
    )


def test_porte_students_are_lost_when_the_collection_is_not_attached_to_the_porte() -> None:
    result = expected_for_elp(_mutualised((PORTEUR,)), PORTE, NOW)
    assert result.course is not None and "B" not in result.course.students
    assert "A" in result.course.students  # the porteur's own students are not affected
    refusal = next(r for r in result.refusals if r.who == "B")
    assert refusal.cause == "porte_collection_not_shared"
    assert refusal.text == "la collection M.1HRP9CTD n'est pas associée au porté 2HR5C"


def test_porte_has_no_course_of_its_own() -> None:
    state = expected_state(_mutualised((PORTEUR, PORTE)), NOW)
    assert set(state.courses) == {PORTEUR}


def test_porte_of_a_porteur_absent_from_refer_reaches_no_course() -> None:
    facts = FactSet.build(elps=[elp(PORTE, porteur=PORTEUR)], ips=[ip("B", PORTE, "G")])
    result = expected_for_elp(facts, PORTE, NOW)
    assert result.course is None
    assert [r.cause for r in result.refusals] == ["porteur_not_current"]


# --- R3.4 suspended, R1 obsolete ---------------------------------------------------------


def test_suspended_elp_suspends_the_database_enrolments_of_its_course() -> None:
    facts = with_collections(
        collection("MS03C", {"M.1.MS03TD": "TD"}, ("M.1.MS03",)),
        elps=[elp("M.1.MS03", status="suspended", period="S1")],
        ips=[ip("1", "M.1.MS03", "M.1.MS03TD")],
    )
    result = expected_for_elp(facts, "M.1.MS03", NOW)
    assert result.course is not None
    assert result.course.suspended and result.course.students == {}
    assert [r.cause for r in result.refusals] == ["elp_suspended"]


def test_ip_on_an_elp_deleted_from_refer_is_refused_as_obsolete() -> None:
    facts = FactSet.build(deleted_elps=[elp("OLD")], ips=[ip("1", "OLD", "G")])
    state = expected_state(facts, NOW)
    assert state.courses == {}
    assert [(r.cause, r.who) for r in state.orphan_refusals] == [("elp_obsolete", "1")]


# --- R3.5 outgoing exchange ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("programme", "elp_period", "excluded"),
    [
        ("Eras+ D>S1", "S1", True),
        ("Eras+ D>S1", "S2", False),
        ("Eras+ D>S1", "year", False),
        ("Eras+ D>S2", "S1", False),
        ("Eras+ D>S2", "S2", True),
        ("Eras+ D>An", "S1", True),
        ("Eras+ D>An", "S2", True),
        ("Eras+ D>An", "year", True),
        ("Eras+ A>An", "S1", False),  # incoming students do attend
    ],
)
def test_outgoing_exchange_student_is_excluded_for_the_period_abroad(
    programme: str, elp_period: Period, excluded: bool
) -> None:
    facts = FactSet.build(
        elps=[elp("Y", period=elp_period)],
        ips=[ip("1", "Y")],
        ias=[Ia("IA1", "1", "L2", 2025, exchange_programme=programme)],
    )
    result = expected_for_elp(facts, "Y", NOW)
    assert result.course is not None
    assert ("1" not in result.course.students) is excluded
    assert [r.cause for r in result.refusals] == (["outgoing_exchange"] if excluded else [])


def test_semester_departure_can_be_configured_to_exclude_yearly_elps() -> None:
    facts = FactSet.build(
        elps=[elp("Y", period="year")],
        ips=[ip("1", "Y")],
        ias=[Ia("IA1", "1", "L2", 2025, exchange_direction="outgoing", exchange_period="S2")],
    )
    config = ModelConfig(exchange_semester_excludes_year_elps=True)
    course = expected_for_elp(facts, "Y", NOW, config).course
    assert course is not None and course.students == {}


# --- R3.6 IA cancelled and replaced ---------------------------------------------------------

REPLACED = [
    Ia("IA1", "1", "L2", 2025, status="cancelled", cancelled_at=datetime(2025, 10, 2, tzinfo=UTC)),
    Ia("IA2", "1", "L2", 2025, replaces="IA1"),
]


@pytest.mark.parametrize(("defect", "enrolled"), [(True, False), (False, True)])
def test_ia_cancelled_and_replaced_loses_registrations_only_with_the_defect_switch(
    defect: bool, enrolled: bool
) -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y")], ias=REPLACED)
    result = expected_for_elp(facts, "Y", NOW, ModelConfig(ia_replacement_defect=defect))
    assert result.course is not None
    assert ("1" in result.course.students) is enrolled
    causes = [r.cause for r in result.refusals]
    assert causes == ([] if enrolled else ["ia_cancelled_replaced"])
    if not enrolled:
        assert "IA IA1 annulée et remplacée par l'IA IA2" in result.refusals[0].text


def test_student_whose_only_ia_is_cancelled_is_not_enrolled() -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y")], ias=REPLACED[:1])
    assert [r.cause for r in expected_for_elp(facts, "Y", NOW).refusals] == ["ia_cancelled"]


# --- a student's view, R7 ------------------------------------------------------------------


def test_expected_for_student_lists_courses_and_refusals_across_elps() -> None:
    facts = with_collections(
        TD,
        elps=[elp("X"), elp("Y", has_teaching_load=False)],
        ips=[ip("1", "X", "X_TD1"), ip("1", "Y")],
    )
    student = expected_for_student(facts, "1", NOW)
    assert set(student.courses) == {"X"}
    assert [(r.cod_elp, r.cause) for r in student.refusals] == [("Y", "no_pseudo_group")]


def test_previous_year_ip_is_enrolled_during_the_overlap_and_refused_after() -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y", year=2024)])
    september = datetime(2025, 9, 20, 10, tzinfo=UTC)
    course = expected_for_elp(facts, "Y", september).course
    assert course is not None and course.students["1"].overlap_only
    after = expected_for_elp(facts, "Y", NOW)
    assert [r.cause for r in after.refusals] == ["year_inactive"]


def test_next_year_ip_is_not_enrolled_before_its_year_opens() -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y", year=2026)])
    [refusal] = expected_for_elp(facts, "Y", NOW).refusals
    assert refusal.cause == "year_inactive"
    assert refusal.text == (
        "inscription pédagogique de l'année 2026 à Y : année pas encore ouverte"
    )
