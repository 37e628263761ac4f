"""group_missing and the seed's FOAD table (R4; seed "Mauvaise gestion statut à distance")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from model_builders import NOW, collection, elp, ip, with_collections
from moodle_builders import CONFIG, LAST_NIGHT, THIS_MORNING, course

from detectors.facts import Group, SyncRun
from detectors.findings import Finding
from detectors.known import students_not_enrolled
from detectors.known.group_missing import DETECTOR, detect
from detectors.state import FactSet

# The seed's "Synthèse des conséquences": G = group CEMU, E = ELP a_distance,
# I = IA in télé-enseignement; then "non inscription" and "absence groupe".
SEED_TABLE = [
    # case,     G,     E,     I,     not enrolled, no group
    ("e", True, False, True, True, True),
    ("a", False, False, True, True, True),
    ("c", False, True, True, False, True),
    ("d", True, False, False, False, True),
    ("f", True, True, False, False, True),
    ("normal", False, False, False, False, False),
    ("b", False, True, False, False, False),
    ("normal", True, True, True, False, False),
]


def _foad(cemu: bool, distance: bool, distant: bool, students: int = 1) -> FactSet:
    label = "Groupe CEMU" if cemu else "TD présentiel"
    return with_collections(
        collection("XC", {"X_G": label}, ("X",)),
        elps=[elp("X", a_distance=distance)],
        ips=[ip(f"2300{n:04d}", "X", "X_G", distant=distant) for n in range(students)],
        courses=[course(7, "X")],
        runs=[LAST_NIGHT],
    )


def _both(facts: FactSet) -> tuple[list[Finding], list[Finding]]:
    not_enrolled = students_not_enrolled.detect(facts, now=NOW, scope=None, config=CONFIG)
    without_group = detect(facts, now=NOW, scope=None, config=CONFIG)
    return not_enrolled, without_group


def test_runs_ahead_of_the_night_and_after_it() -> None:
    assert DETECTOR.moments == {"ahead", "after_run"}


@pytest.mark.parametrize(("case", "g", "e", "i", "not_enrolled", "no_group"), SEED_TABLE)
def test_each_row_of_the_seed_table_raises_the_consequence_it_lists(
    case: str, g: bool, e: bool, i: bool, not_enrolled: bool, no_group: bool
) -> None:
    refused, without_group = _both(_foad(g, e, i))
    assert [f.cause for f in refused] == ([f"foad_case_{case}"] if not_enrolled else [])
    group_only = no_group and not not_enrolled
    assert [f.cause for f in without_group] == ([f"foad_case_{case}"] if group_only else [])
    if group_only:
        assert f"situation {case}" in without_group[0].remediation
        assert without_group[0].course_id == 7


def test_distant_students_in_the_pseudo_group_of_a_distance_elp_are_artificially_case_c() -> None:
    facts = FactSet.build(
        elps=[elp("IRAN-16", a_distance=True)],
        groups=[Group("ELP_IRAN-16_CM")],
        ips=[ip("21609846", "IRAN-16", "ELP_IRAN-16_CM", distant=True)],
        runs=[LAST_NIGHT],
    )
    [finding] = detect(facts, now=NOW, scope=None, config=CONFIG)
    assert (finding.subject, finding.cause) == ("IRAN-16", "distant_in_pseudo_group")
    assert "artificiellement dans la situation c" in finding.remediation
    assert "21609846" not in finding.title and "21609846" in finding.evidence[0].fact


def test_student_21609846_on_iran15_in_a_cemu_group_keeps_its_group() -> None:
    facts = with_collections(
        collection("IRANC", {"IRAN-15-CEMU": "Groupe CEMU IRAN-15"}, ("IRAN-15",)),
        elps=[elp("IRAN-15", a_distance=True)],
        ips=[ip("21609846", "IRAN-15", "IRAN-15-CEMU", distant=True)],
        runs=[LAST_NIGHT],
    )
    assert _both(facts) == ([], [])


def test_missing_groups_never_go_critical_since_the_students_keep_their_access() -> None:
    [finding] = detect(_foad(True, False, False, students=40), now=NOW, scope=None, config=CONFIG)
    assert finding.affected_count == 40
    assert finding.severity == "warning"


def test_a_group_mismatch_younger_than_the_last_run_is_pending() -> None:
    facts = with_collections(
        collection("XC", {"X_G": "CEMU"}, ("X",)),
        elps=[elp("X")],
        ips=[ip("1", "X", "X_G", as_of=THIS_MORNING)],
        runs=[LAST_NIGHT],
    )
    [finding] = detect(facts, now=NOW, scope=["X"], config=CONFIG)
    assert finding.cause == "foad_case_d"
    assert finding.pending_until_next_run and finding.phase == "predicted"


def test_previous_year_ips_in_september_are_left_alone() -> None:
    september = datetime(2025, 9, 15, 10, tzinfo=UTC)
    run = SyncRun("r", september - timedelta(hours=9), september - timedelta(hours=8), "success")
    facts = with_collections(
        collection("XC", {"X_G": "CEMU"}, ("X",)),
        elps=[elp("X")],
        ips=[ip("1", "X", "X_G", year=2024)],
        runs=[run],
    )
    assert detect(facts, now=september, scope=None, config=CONFIG) == []
