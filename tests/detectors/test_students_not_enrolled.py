"""students_not_enrolled (R3-R5, R7, R9; seed "Pourquoi les étudiants ne sont pas inscrits…")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
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

from detectors.base import DetectorConfig
from detectors.facts import Account, Group, Ia, SyncRun
from detectors.findings import Finding
from detectors.known.students_not_enrolled import DETECTOR, detect
from detectors.model import ModelConfig
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1", "X_TD2": "TD 2"}, ("X",))


def _findings(facts: FactSet, config: DetectorConfig = CONFIG) -> list[Finding]:
    return detect(facts, now=NOW, scope=None, config=config)


def _only(facts: FactSet, config: DetectorConfig = CONFIG) -> Finding:
    [finding] = _findings(facts, config)
    return finding


def test_runs_ahead_of_the_night_and_after_it() -> None:
    assert DETECTOR.moments == {"ahead", "after_run"}


def test_ips_without_group_make_one_finding_for_the_elp_listing_the_students() -> None:
    facts = with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("21000001", "X"), ip("21000002", "X"), ip("21000003", "X", "X_TD1")],
        runs=[LAST_NIGHT],
    )
    finding = _only(facts)
    assert (finding.subject, finding.cause, finding.cod_elp) == ("X", "ip_without_group", "X")
    assert finding.affected_count == 2
    assert finding.audience == "scolarite" and finding.cod_cmp == "12 UFR HSS"
    assert "jusqu'au groupe" in finding.remediation
    assert "21000001" not in finding.title + finding.subject + finding.summary
    assert "21000001 et 21000002" in finding.evidence[0].fact
    assert [e.who for e in finding.evidence if e.is_person] == ["21000001", "21000002"]
    assert any(e.rule == "R3.2" for e in finding.evidence)
    assert not finding.pending_until_next_run and finding.phase == "occurred"


def test_rcaed334_distant_ia_in_a_presential_elp_and_pseudo_group_is_case_a() -> None:
    facts = FactSet.build(
        elps=[elp("RCAED334", a_distance=False)],
        groups=[Group("ELP_RCAED334_CM")],
        ips=[ip("21700001", "RCAED334", "ELP_RCAED334_CM", distant=True)],
        runs=[LAST_NIGHT],
    )
    finding = _only(facts)
    assert finding.cause == "foad_case_a"
    assert "situation a" in finding.remediation
    assert any("ELP_RCAED334_CM" in e.fact for e in finding.evidence)


def test_student_21609846_on_iran15_in_a_cemu_group_is_enrolled_normally() -> None:
    facts = with_collections(
        collection("IRANC", {"IRAN-15-CEMU": "Groupe CEMU IRAN-15"}, ("IRAN-15",)),
        elps=[elp("IRAN-15", a_distance=True)],
        ips=[ip("21609846", "IRAN-15", "IRAN-15-CEMU", distant=True)],
        runs=[LAST_NIGHT],
    )
    assert _findings(facts) == []


def test_suspended_m1ms03_suspends_the_enrolments_of_its_course() -> None:
    facts = with_collections(
        collection("MS03C", {"M.1.MS03TD": "TD"}, ("M.1.MS03",)),
        elps=[elp("M.1.MS03", status="suspended", period="S1")],
        ips=[ip(f"2150000{n}", "M.1.MS03", "M.1.MS03TD") for n in range(4)],
        runs=[LAST_NIGHT],
    )
    finding = _only(facts)
    assert (finding.cause, finding.affected_count) == ("elp_suspended", 4)
    assert "suspendu" in finding.remediation


def test_2hr5c_porte_by_m1hrp9c_loses_students_when_the_collection_is_not_shared() -> None:
    facts = with_collections(
        collection("M.1HRP9CTD", {"M.1HRP9CEM": "EM", "M.1HRP9CTD": "TD"}, ("M.1HRP9C",)),
        elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")],
        ips=[ip("A", "M.1HRP9C", "M.1HRP9CEM"), ip("B", "2HR5C", "M.1HRP9CTD")],
        courses=[course(40, "M.1HRP9C")],
        runs=[LAST_NIGHT],
    )
    finding = _only(facts)
    assert (finding.subject, finding.cause) == ("2HR5C", "porte_collection_not_shared")
    assert finding.course_id == 40
    assert "2HR5C" in finding.remediation and "M.1HRP9C" in finding.remediation
    assert "porteur et portés" in finding.remediation


def test_2hr5c_with_the_collection_shared_raises_nothing() -> None:
    facts = with_collections(
        collection("M.1HRP9CTD", {"M.1HRP9CTD": "TD"}, ("M.1HRP9C", "2HR5C")),
        elps=[elp("M.1HRP9C"), elp("2HR5C", porteur="M.1HRP9C")],
        ips=[ip("B", "2HR5C", "M.1HRP9CTD")],
        runs=[LAST_NIGHT],
    )
    assert _findings(facts) == []


def test_elp_without_group_nor_teaching_load_has_no_pseudo_group() -> None:
    facts = FactSet.build(
        elps=[elp("Y", has_teaching_load=False)], ips=[ip("1", "Y")], runs=[LAST_NIGHT]
    )
    finding = _only(facts)
    assert finding.cause == "no_pseudo_group"
    assert "charges d'enseignement" in finding.remediation


REPLACED = [
    Ia("IA1", "1", "L2", 2025, status="cancelled", cancelled_at=LAST_WEEK),
    Ia("IA2", "1", "L2", 2025, replaces="IA1"),
]


@pytest.mark.parametrize(("defect", "causes"), [(True, ["ia_cancelled_replaced"]), (False, [])])
def test_ia_cancelled_and_replaced_is_reported_behind_its_switch(
    defect: bool, causes: list[str]
) -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y")], ias=REPLACED, runs=[LAST_NIGHT])
    found = _findings(facts, DetectorConfig(model=ModelConfig(ia_replacement_defect=defect)))
    assert [f.cause for f in found] == causes
    if found:
        assert "hypothèse en cours d'analyse" in found[0].remediation
        assert found[0].audience == "cemu"  # the scolarité has nothing to fix in APOGÉE


def test_student_who_left_with_a_cancelled_ia_is_not_a_fault() -> None:
    facts = FactSet.build(elps=[elp("Y")], ips=[ip("1", "Y")], ias=REPLACED[:1], runs=[LAST_NIGHT])
    assert _findings(facts) == []


# --- R3.5 Erasmus -------------------------------------------------------------------------


def _erasmus(programme: str, *group_ids: str) -> FactSet:
    s1 = collection("S1C", {"S1_TD": "TD"}, ("S1ELP",))
    s2 = collection("S2C", {"S2_TD": "TD"}, ("S2ELP",))
    groups = dict(zip(("S1ELP", "S2ELP"), group_ids, strict=False))
    return with_collections(
        s1,
        s2,
        elps=[elp("S1ELP", period="S1"), elp("S2ELP", period="S2")],
        ips=[ip("22000001", code, group) for code, group in groups.items()],
        ias=[Ia("IA1", "22000001", "L2HIS", 2025, exchange_programme=programme)],
        runs=[LAST_NIGHT],
    )


def test_outgoing_erasmus_student_for_one_semester_is_not_a_fault() -> None:
    assert _findings(_erasmus("Eras+ D>S1", "S1_TD", "S2_TD")) == []


def test_yearly_departure_contradicted_by_groups_of_both_semesters_is_a_hint() -> None:
    finding = _only(_erasmus("Eras+ D>An", "S1_TD", "S2_TD"))
    assert (finding.cause, finding.severity, finding.subject) == (
        "exchange_contradiction",
        "info",
        "L2HIS",
    )
    assert "22000001" not in finding.title and "22000001" in finding.evidence[0].fact
    assert "bureau des inscriptions (SI-Scol)" in finding.remediation
    assert "deve.cellule-siscol" not in finding.remediation


def test_yearly_departure_with_groups_of_one_semester_only_is_silent() -> None:
    assert _findings(_erasmus("Eras+ D>An", "S1_TD")) == []


def test_exchange_hint_needs_the_whole_student_so_scoped_passes_skip_it() -> None:
    facts = _erasmus("Eras+ D>An", "S1_TD", "S2_TD")
    assert detect(facts, now=NOW, scope=["S1ELP"], config=CONFIG) == []


# --- R9 and R7 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip_as_of", "pending", "phase"),
    [(LAST_WEEK, False, "occurred"), (THIS_MORNING, True, "predicted")],
)
def test_a_registration_younger_than_the_last_run_is_pending_not_a_fault(
    ip_as_of: datetime, pending: bool, phase: str
) -> None:
    facts = with_collections(
        TD, elps=[elp("X")], ips=[ip("1", "X", as_of=ip_as_of)], runs=[LAST_NIGHT]
    )
    finding = _only(facts)
    assert (finding.pending_until_next_run, finding.phase) == (pending, phase)


def test_without_any_completed_run_every_difference_is_pending() -> None:
    running = SyncRun("r", LAST_WEEK)
    facts = with_collections(TD, elps=[elp("X")], ips=[ip("1", "X")], runs=[running])
    assert _only(facts).pending_until_next_run


def test_previous_year_ips_are_expected_differences_during_the_overlap() -> None:
    september = datetime(2025, 9, 20, 10, tzinfo=UTC)
    run = SyncRun("r", datetime(2025, 9, 20, 1, tzinfo=UTC), september, "success")
    facts = with_collections(
        TD, elps=[elp("X")], ips=[ip("1", "X", year=2024), ip("2", "X")], runs=[run]
    )
    [finding] = detect(facts, now=september, scope=None, config=CONFIG)
    assert finding.affected_count == 1
    assert "2" in finding.evidence[0].fact and "1," not in finding.evidence[0].fact


# --- students the model enrols, absent from Moodle after the run ---------------------------


def _enrolled_in_moodle(
    *present: str, ip_as_of: datetime = LAST_WEEK, people: list[Account] | None = None
) -> FactSet:
    """Students 1 and 2 in groups of X; ``present`` enrolled in its Moodle course 7."""
    return with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("1", "X", "X_TD1", as_of=ip_as_of), ip("2", "X", "X_TD2", as_of=ip_as_of)],
        courses=[course(7, "X")],
        enrol_instances=instances(7),
        enrolments=enrolled(7, "student", *present),
        accounts=accounts(students=("1", "2")) if people is None else people,
        runs=[LAST_NIGHT],
    )


def test_expected_student_absent_from_moodle_after_the_run_is_unexplained_for_cemu() -> None:
    finding = _only(_enrolled_in_moodle("1"))
    assert (finding.subject, finding.cause, finding.audience) == ("X", "missing_after_run", "cemu")
    assert finding.affected_count == 1 and finding.course_id == 7
    assert any(e.rule == "R9" and e.as_of == LAST_NIGHT.started_at for e in finding.evidence)


def test_students_all_in_moodle_raise_nothing() -> None:
    assert _findings(_enrolled_in_moodle("1", "2")) == []


def test_student_registered_since_the_last_run_is_simply_enrolled_tonight() -> None:
    assert _findings(_enrolled_in_moodle(ip_as_of=THIS_MORNING)) == []


def test_without_accounts_moodle_users_cannot_be_named_so_nothing_is_compared() -> None:
    assert _findings(_enrolled_in_moodle(people=[])) == []


def test_student_without_an_account_has_no_moodle_user_to_enrol() -> None:
    assert _findings(_enrolled_in_moodle("1", people=accounts(students=("1",)))) == []


def test_student_whose_account_appeared_this_morning_is_enrolled_tonight() -> None:
    people = [*accounts(students=("1",)), Account("u2", cod_etu="2", as_of=THIS_MORNING)]
    assert _findings(_enrolled_in_moodle("1", people=people)) == []


def test_a_scoped_pass_finds_what_the_full_pass_finds_for_that_elp() -> None:
    facts = with_collections(
        TD,
        elps=[elp("X"), elp("Y", has_teaching_load=False)],
        ips=[ip("1", "X"), ip("2", "Y")],
        runs=[LAST_NIGHT],
    )
    full = {f.fingerprint: f for f in _findings(facts)}
    [scoped] = detect(facts, now=NOW, scope=["X"], config=CONFIG)
    assert full[scoped.fingerprint] == scoped
