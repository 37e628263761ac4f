"""Moodle group memberships against APOGÉE's groups (seed FAQ "Je ne suis pas affecté dans
le bon groupe dans le cours, pourquoi ?"; R3.2, R9): the model's ``group_gaps`` and the
``wrong_group`` / ``group_membership_missing`` findings of ``group_missing``."""

from __future__ import annotations

from datetime import datetime

from model_builders import NOW, collection, elp, ip, with_collections
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

from detectors.diagnose import diagnose, render_text
from detectors.facts import MoodleGroupMember
from detectors.findings import Finding
from detectors.known.group_missing import detect
from detectors.model import expected_state, group_gaps
from detectors.registry import CAUSES
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1", "X_TD2": "TD 2"}, ("X",))


def _university(
    placed: dict[str, tuple[str, ...]], *, ip_as_of: datetime = LAST_WEEK, runs: bool = True
) -> FactSet:
    """Students 1 (IP in TD1) and 2 (TD2) of X, enrolled in course 7, in ``placed`` groups."""
    return with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("1", "X", "X_TD1", as_of=ip_as_of), ip("2", "X", "X_TD2", as_of=ip_as_of)],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "student", "1", "2"),
        accounts=accounts(students=("1", "2")),
        group_members=[
            MoodleGroupMember(7, group, f"u{who}", LAST_WEEK)
            for who, groups in placed.items()
            for group in groups
        ],
        runs=[LAST_NIGHT] if runs else [],
    )


def _findings(facts: FactSet) -> list[Finding]:
    return detect(facts, now=NOW, scope=None, config=CONFIG)


def test_the_model_compares_memberships_with_the_groups_of_the_ips() -> None:
    facts = _university({})
    state = expected_state(facts, NOW)
    course_x = state.courses["X"]
    placed = {"1": frozenset({"X_TD2"}), "2": frozenset({"X_TD2", "teachers-own"})}
    gaps = group_gaps(course_x, placed, {"1", "2"}, {"X_TD1", "X_TD2"})
    assert [(g.cod_etu, g.kind, g.missing, g.extra) for g in gaps] == [
        ("1", "wrong_group", frozenset({"X_TD1"}), frozenset({"X_TD2"}))
    ]  # 2 is in its group; a group the teachers made does not count
    gaps = group_gaps(course_x, {}, {"1"}, {"X_TD1", "X_TD2"})
    assert [(g.cod_etu, g.kind) for g in gaps] == [("1", "group_membership_missing")]


def test_a_student_expected_in_td1_placed_in_td2_is_in_the_wrong_group() -> None:
    [finding] = _findings(_university({"1": ("X_TD2",), "2": ("X_TD2",)}))
    assert (finding.subject, finding.cause, finding.audience) == ("X", "wrong_group", "cemu")
    assert finding.affected_count == 1 and finding.course_id == 7
    [row] = [e for e in finding.evidence if e.is_person]
    assert row.who == "1" and "attendu dans X_TD1, placé dans X_TD2" in row.fact
    assert finding.title == "X : 1 étudiant dans le mauvais groupe"  # nobody named
    assert "Participants ► Groupes" in finding.remediation
    assert finding.severity != "critical" and not finding.pending_until_next_run


def test_an_enrolled_student_in_no_group_misses_its_membership() -> None:
    [finding] = _findings(_university({"2": ("X_TD2",)}))
    assert (finding.cause, finding.affected_count) == ("group_membership_missing", 1)
    assert [e.who for e in finding.evidence if e.is_person] == ["1"]


def test_everyone_in_their_group_raises_nothing() -> None:
    assert _findings(_university({"1": ("X_TD1",), "2": ("X_TD2",)})) == []


def test_a_group_changed_in_apogee_since_the_last_run_is_tonight_s_work() -> None:
    facts = _university({"1": ("X_TD2",), "2": ("X_TD2",)}, ip_as_of=THIS_MORNING)
    assert _findings(facts) == []


def test_without_a_completed_run_nothing_is_compared() -> None:
    assert _findings(_university({"1": ("X_TD2",)}, runs=False)) == []


def test_students_not_enrolled_in_moodle_are_another_detector_s() -> None:
    facts = _university({})
    facts = FactSet.build(
        elps=facts.elps.values(),
        groups=facts.groups.values(),
        collection_links=facts.collection_links,
        ips=facts.ips,
        courses=facts.courses.values(),
        enrol_instances=facts.enrol_instances.values(),
        enrolments=enrolled(7, "student", "2"),
        accounts=facts.accounts.values(),
        group_members=[MoodleGroupMember(7, "X_TD2", "u2")],
        runs=facts.runs,
    )
    assert [f.cause for f in _findings(facts)] == []


def test_the_causes_are_labelled_in_french_for_the_cemu() -> None:
    assert CAUSES["wrong_group"].shown == "Étudiants dans un autre groupe que celui d'APOGÉE"
    assert CAUSES["wrong_group"].fixer == CAUSES["group_membership_missing"].fixer == "cemu"


# --- diagnose: "Je ne suis pas affecté dans le bon groupe dans le cours, pourquoi ?" ------


def test_diagnose_of_the_student_in_the_wrong_group_names_both_groups() -> None:
    facts = _university({"1": ("X_TD2",), "2": ("X_TD2",)})
    d = diagnose(facts, now=NOW, config=CONFIG, cod_etu="1")
    (fault,) = d.faults
    assert (fault.rule, fault.cause, fault.people) == ("R3.2", "wrong_group", ("1",))
    assert "dans X_TD2 au lieu de X_TD1" in fault.statement
    assert fault.fixer == "le CEMU" and "w9" in fault.how
    assert "aucun problème" not in render_text(d)
    assert diagnose(facts, now=NOW, config=CONFIG, cod_etu="2").faults == ()


def test_diagnose_of_the_course_lists_the_students_out_of_their_group() -> None:
    facts = _university({"2": ("X_TD2",)})
    d = diagnose(facts, now=NOW, config=CONFIG, cod_elp="X")
    found = [(p.cause, p.people) for p in d.faults if p.cause.startswith("group")]
    assert found == [("group_membership_missing", ("1",))]


def test_diagnose_of_a_group_changed_this_morning_says_tonight() -> None:
    facts = _university({"1": ("X_TD2",), "2": ("X_TD2",)}, ip_as_of=THIS_MORNING)
    d = diagnose(facts, now=NOW, config=CONFIG, cod_etu="1")
    assert d.faults == () and d.pending_tonight
    assert any("sera corrigé cette nuit" in p.statement for p in d.points)
