"""R6: teachers are enrolled from ADE plannings, seed section "Planification ADE non compatible"."""

from __future__ import annotations

from datetime import UTC, datetime

from model_builders import NOW, collection, elp, with_collections

from detectors.facts import AdeFiche, AdeSession, CollectionLink, Group
from detectors.model import ModelConfig, expected_for_elp, expected_state
from detectors.state import FactSet

MONDAY = datetime(2025, 11, 24, 8, tzinfo=UTC)


def _session(sid: str, fiche: str, *teachers: str, groups: tuple[str, ...] = ()) -> AdeSession:
    return AdeSession(sid, fiche, MONDAY, groups, teachers)


def test_teacher_planned_in_a_session_is_enrolled_and_merely_associated_one_is_not() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F1", "X", teachers=("dupont", "martin"))],
        sessions=[_session("S1", "F1", "dupont")],
    )
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None
    assert set(result.course.teachers) == {"dupont"}
    assert result.course.teachers["dupont"].fiche_ids == {"F1"}
    [refusal] = result.refusals
    assert (refusal.cause, refusal.who, refusal.role) == (
        "teacher_associated_not_planned",
        "martin",
        "teacher",
    )


def test_fiche_made_only_in_ade_enrols_nobody() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F9", None, teachers=("dupont",))],
        sessions=[_session("S1", "F9", "dupont")],
    )
    state = expected_state(facts, NOW)
    assert state.courses["X"].teachers == {}
    [refusal] = state.orphan_refusals
    assert (refusal.cause, refusal.course_idnumber) == ("fiche_not_linked", None)


def test_fiche_of_an_obsolete_elp_enrols_nobody() -> None:
    facts = FactSet.build(
        deleted_elps=[elp("OLD")],
        fiches=[AdeFiche("F1", "OLD")],
        sessions=[_session("S1", "F1", "dupont")],
    )
    [refusal] = expected_for_elp(facts, "OLD", NOW).refusals
    assert refusal.cause == "elp_obsolete"
    assert refusal.facts[0] == facts.fiches["F1"]


def test_fiche_of_a_porte_elp_enrols_nobody_unless_planned_on_the_porteur() -> None:
    facts = FactSet.build(
        elps=[elp("P"), elp("Q", porteur="P")],
        fiches=[AdeFiche("FP", "P"), AdeFiche("FQ", "Q")],
        sessions=[_session("S1", "FP", "dupont"), _session("S2", "FQ", "dupont", "martin")],
    )
    course = expected_for_elp(facts, "P", NOW).course
    assert course is not None
    assert set(course.teachers) == {"dupont"}
    assert [(r.who, r.cause) for r in course.refusals] == [("martin", "fiche_on_porte_elp")]


def _masking(*real_group: tuple[list[Group], list[CollectionLink]]) -> FactSet:
    return with_collections(
        *real_group,
        elps=[elp("X")],
        groups=(Group("ELP_X_CM"),),
        fiches=[AdeFiche("F1", "X", teachers=("dupont",))],
        sessions=[_session("S1", "F1", "dupont", groups=("ELP_X_CM",))],
    )


def test_sessions_on_the_pseudo_group_enrol_while_the_elp_has_no_real_group() -> None:
    course = expected_for_elp(_masking(), "X", NOW).course
    assert course is not None and set(course.teachers) == {"dupont"}


def test_a_new_real_group_without_planning_masks_the_pseudo_group_sessions() -> None:
    facts = _masking(collection("XC", {"X_TD": "TD"}, ("X",)))
    result = expected_for_elp(facts, "X", NOW)
    assert result.course is not None and result.course.teachers == {}
    [refusal] = result.refusals
    assert refusal.cause == "masked_by_new_group"
    assert refusal.text == (
        "planification masquée : séances planifiées sur ELP_X_CM, aucune sur le groupe X_TD "
        "créé ensuite dans APOGÉE"
    )


def test_suspended_elp_suspends_teacher_enrolments_unless_configured_otherwise() -> None:
    facts = FactSet.build(
        elps=[elp("X", status="suspended")],
        fiches=[AdeFiche("F1", "X")],
        sessions=[_session("S1", "F1", "dupont")],
    )
    suspended = expected_for_elp(facts, "X", NOW)
    assert suspended.course is not None and suspended.course.teachers == {}
    assert [r.cause for r in suspended.refusals] == ["elp_suspended"]
    config = ModelConfig(suspension_covers_teachers=False)
    kept = expected_for_elp(facts, "X", NOW, config).course
    assert kept is not None and set(kept.teachers) == {"dupont"}


def test_on_a_suspended_elp_a_tutor_planned_on_the_tutorial_fiche_is_not_associated_only() -> None:
    # The lecture fiche associates the whole team and plans the lecturer; the tutorial
    # fiche plans the tutor. Suspension refuses both: for its own reason, nothing else.
    facts = FactSet.build(
        elps=[elp("X", status="suspended")],
        fiches=[
            AdeFiche("CM", "X", teachers=("dupont", "martin")),
            AdeFiche("TD", "X", teachers=("martin",)),
        ],
        sessions=[_session("S1", "CM", "dupont"), _session("S2", "TD", "martin")],
    )
    course = expected_for_elp(facts, "X", NOW).course
    assert course is not None and course.teachers == {}
    assert sorted((r.who, r.cause) for r in course.refusals) == [
        ("dupont", "elp_suspended"),
        ("martin", "elp_suspended"),
    ]


def test_a_teacher_associated_on_every_fiche_and_planned_on_none_is_still_refused() -> None:
    facts = FactSet.build(
        elps=[elp("X", status="suspended")],
        fiches=[AdeFiche("CM", "X", teachers=("dupont", "durand")), AdeFiche("TD", "X")],
        sessions=[_session("S1", "CM", "dupont")],
    )
    course = expected_for_elp(facts, "X", NOW).course
    assert course is not None
    assert ("durand", "teacher_associated_not_planned") in {
        (r.who, r.cause) for r in course.refusals
    }


def test_last_year_sessions_count_during_the_overlap_only() -> None:
    last_year = AdeSession("S1", "F1", datetime(2025, 3, 10, 8, tzinfo=UTC), (), ("dupont",))
    facts = FactSet.build(elps=[elp("X")], fiches=[AdeFiche("F1", "X")], sessions=[last_year])
    september = expected_for_elp(facts, "X", datetime(2025, 9, 15, tzinfo=UTC)).course
    assert september is not None and september.teachers["dupont"].overlap_only
    october = expected_for_elp(facts, "X", datetime(2025, 10, 1, 8, tzinfo=UTC))
    assert [r.cause for r in october.refusals] == ["year_inactive"]
