"""teacher_missing (R6, R9; seed "Planification ADE non compatible")."""

from __future__ import annotations

from datetime import UTC, datetime

from model_builders import NOW, collection, elp, with_collections
from moodle_builders import (
    CONFIG,
    LAST_NIGHT,
    LAST_WEEK,
    THIS_MORNING,
    accounts,
    course,
    enrolled,
    instances,
)

from detectors.facts import AdeFiche, AdeSession, Group
from detectors.findings import Finding
from detectors.known.teacher_missing import DETECTOR, detect
from detectors.state import FactSet

MONDAY = datetime(2025, 11, 24, 8, tzinfo=UTC)


def _session(
    sid: str, fiche: str, *teachers: str, groups: tuple[str, ...] = (), as_of: datetime = LAST_WEEK
) -> AdeSession:
    return AdeSession(sid, fiche, MONDAY, groups, teachers, as_of)


def _findings(facts: FactSet) -> list[Finding]:
    return detect(facts, now=NOW, scope=None, config=CONFIG)


def test_runs_after_ade_changes_and_after_each_run() -> None:
    assert DETECTOR.moments == {"ahead", "after_run"}


def test_teachers_only_associated_with_the_fiche_are_listed_in_one_finding() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F1", "X", ("dupont", "martin", "durand"), LAST_WEEK)],
        sessions=[_session("S1", "F1", "dupont")],
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert (finding.subject, finding.cause) == ("X", "teacher_associated_not_planned")
    assert finding.affected_count == 2 and finding.audience == "scolarite"
    assert "une simple association d'enseignant ne suffit pas" in finding.remediation
    assert "martin" not in finding.title and "durand et martin" in finding.evidence[0].fact
    assert not finding.pending_until_next_run


def test_fiche_made_only_in_ade_enrols_nobody() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F9", None, ("dupont",))],
        sessions=[_session("S1", "F9", "dupont")],
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert (finding.subject, finding.cause, finding.cod_elp) == ("F9", "fiche_not_linked", None)
    assert "créée uniquement dans ADE" in finding.remediation


def test_fiche_of_an_obsolete_elp_enrols_nobody() -> None:
    facts = FactSet.build(
        deleted_elps=[elp("OLD")],
        fiches=[AdeFiche("F1", "OLD")],
        sessions=[_session("S1", "F1", "dupont")],
        runs=[LAST_NIGHT],
    )
    for scope in (None, ["OLD"]):
        [finding] = detect(facts, now=NOW, scope=scope, config=CONFIG)
        assert (finding.subject, finding.cause) == ("OLD", "elp_obsolete")


def test_a_new_group_without_planning_masks_the_sessions_of_the_pseudo_group() -> None:
    facts = with_collections(
        collection("XC", {"X_TD": "TD"}, ("X",)),
        elps=[elp("X")],
        groups=(Group("ELP_X_CM"),),
        fiches=[AdeFiche("F1", "X", ("dupont",))],
        sessions=[_session("S1", "F1", "dupont", groups=("ELP_X_CM",))],
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert finding.cause == "masked_by_new_group"
    assert "masque les planifications faites sur le pseudo-groupe" in finding.remediation
    assert any("ELP_X_CM" in e.fact for e in finding.evidence)


def test_suspended_elp_suspends_its_planned_teachers_too() -> None:
    facts = FactSet.build(
        elps=[elp("M.1.MS03", status="suspended", period="S1")],
        fiches=[AdeFiche("F1", "M.1.MS03", (), LAST_WEEK)],
        sessions=[_session("S1", "F1", "dupont")],
        runs=[LAST_NIGHT],
    )
    [finding] = _findings(facts)
    assert (finding.subject, finding.cause) == ("M.1.MS03", "elp_suspended")
    assert "rétablissez l'élément" in finding.remediation


def test_associated_teacher_enrolled_by_the_sync_all_the_same_is_not_missing() -> None:
    # lmsjonction enrolled the whole associated team: too_many_teachers' business.
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F1", "X", ("dupont", "martin"), LAST_WEEK)],
        sessions=[_session("S1", "F1", "dupont")],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "teacher", "dupont", "martin"),
        accounts=accounts(teachers=("dupont", "martin")),
        runs=[LAST_NIGHT],
    )
    assert _findings(facts) == []


def test_teachers_of_a_course_entirely_at_distance_are_expected_without_planning() -> None:
    facts = FactSet.build(
        elps=[elp("FOAD1", a_distance=True)],
        fiches=[AdeFiche("F1", "FOAD1", ("dupont",))],
        runs=[LAST_NIGHT],
    )
    assert _findings(facts) == []


def test_an_association_made_this_morning_is_pending_tonight() -> None:
    facts = FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F1", "X", ("martin",), THIS_MORNING)],
        runs=[LAST_NIGHT],
    )
    [finding] = detect(facts, now=NOW, scope=["X"], config=CONFIG)
    assert finding.pending_until_next_run and finding.phase == "predicted"


# --- planned teachers absent from Moodle after the run ------------------------------------


def _planned(*in_moodle: str, as_of: datetime = LAST_WEEK) -> FactSet:
    return FactSet.build(
        elps=[elp("X")],
        fiches=[AdeFiche("F1", "X", (), LAST_WEEK)],
        sessions=[_session("S1", "F1", "dupont", "martin", as_of=as_of)],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "teacher", *in_moodle),
        accounts=accounts(teachers=("dupont", "martin")),
        runs=[LAST_NIGHT],
    )


def test_planned_teacher_absent_from_moodle_after_the_run_is_unexplained_for_cemu() -> None:
    [finding] = _findings(_planned("dupont"))
    assert (finding.subject, finding.cause, finding.audience) == ("X", "missing_after_run", "cemu")
    assert "martin" in finding.evidence[0].fact and "martin" not in finding.title


def test_planned_teachers_enrolled_in_moodle_raise_nothing() -> None:
    assert _findings(_planned("dupont", "martin")) == []


def test_a_teacher_planned_this_morning_is_simply_enrolled_tonight() -> None:
    assert _findings(_planned(as_of=THIS_MORNING)) == []
