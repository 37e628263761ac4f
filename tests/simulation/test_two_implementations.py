"""Two implementations of the nightly rules: the simulated lmsjonction and the detectors' model.

The simulated run (``monitor.simulation.night_plan``) is written from the seed
alone and must not import the model; these tests check that, then compare the
two on the simulated universities and on the seed's own examples. Decisions
on their disagreements: ``docs/DECISIONS.md``, "Two implementations of the nightly run".
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from simulation_fixtures import SNAPSHOT, PlayedSimulation

from detectors.facts import CollectionLink, Elp, Group, Ia, Ip
from detectors.model import DEFAULT_CONFIG, ModelConfig, expected_state
from monitor.simulation.night_plan import plan_night
from monitor.simulation.university import University
from tests.fixtures.two_implementations import disagreements

NOW = datetime(2025, 11, 3, 3, 0, tzinfo=UTC)
RUN_MODULES = (
    "monitor.simulation.lmsjonction",
    "monitor.simulation.run_messages",
    "monitor.simulation.night_plan",
    "monitor.simulation.night_rules",
)


def _imported(module: str) -> list[str]:
    code = (
        f"import sys, json, {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'detectors')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return list(json.loads(out.stdout))


@pytest.mark.parametrize(
    "module", ["monitor.simulation.night_plan", "monitor.simulation.night_rules"]
)
def test_the_run_s_rules_import_nothing_from_detectors(module: str) -> None:
    assert _imported(module) == []


@pytest.mark.parametrize("module", RUN_MODULES)
def test_the_simulated_run_never_imports_the_model(module: str) -> None:
    """The run writes Moodle rows (``detectors.facts``, data only): never the model or the state."""
    assert set(_imported(module)) <= {"detectors", "detectors.facts"}


def test_the_two_agree_on_a_clean_university(clean_small: University) -> None:
    assert disagreements(clean_small, SNAPSHOT + timedelta(hours=2), DEFAULT_CONFIG) == []


def test_the_two_agree_after_every_fault_and_eight_nights(
    every_fault_tiny: PlayedSimulation,
) -> None:
    simulation = every_fault_tiny.simulation
    for hours in (1, 20):  # after the last run, and the next day's edits
        now = simulation.uni.runs[-1].started_at + timedelta(hours=hours)
        assert disagreements(simulation.uni, now, simulation.model_config) == []


def _university(*rows: object) -> University:
    uni = University(0, "tiny")
    for row in rows:
        uni.load(row)
    return uni


def _pseudo_elp(code: str = "RCAED334", *, load: bool = True) -> Elp:
    return Elp(
        code, "Droit", "05", a_distance=False, has_teaching_load=load, period="S1", year=2025
    )


@pytest.mark.parametrize(
    ("programme", "enrolled"),
    [("Eras+ D>An", False), ("EraFM D>S1", False), ("UE D>An", True), ("IntU D>An", True)],
)
def test_only_erasmus_keeps_a_student_out_unless_the_site_says_so(
    programme: str, enrolled: bool
) -> None:
    uni = _university(
        _pseudo_elp(),
        Group("ELP_RCAED334_CM", "CM"),
        Ip("1", "RCAED334", "ELP_RCAED334_CM", year=2025),
        Ia("IA1", "1", "L2", 2025, exchange_programme=programme),
    )
    plan = plan_night(uni, NOW, DEFAULT_CONFIG)
    assert ("1" in plan.courses["RCAED334"].students) is enrolled
    assert disagreements(uni, NOW, DEFAULT_CONFIG) == []
    every = ModelConfig(erasmus_programmes=("Eras+", "EraFM", "UE", "IntU"))
    assert "1" not in plan_night(uni, NOW, every).courses["RCAED334"].students
    assert disagreements(uni, NOW, every) == []


def test_no_group_and_no_teaching_load_means_no_course() -> None:
    """ "Pourquoi mon cours n'existe pas sur Ecampus ? Voir : Manque d'inscription jusqu'au groupe"."""
    uni = _university(_pseudo_elp("NOLOAD", load=False), Ip("1", "NOLOAD", year=2025))
    assert plan_night(uni, NOW, DEFAULT_CONFIG).actions == []
    assert [a.action for a in expected_state(uni.fact_set(), NOW).course_actions] == []
    grouped = _university(
        _pseudo_elp("TDONLY", load=False),
        Group("TDONLYTD1", "TD 1", "TDONLYTD"),
        CollectionLink("TDONLYTD", "TDONLY"),
    )
    assert plan_night(grouped, NOW, DEFAULT_CONFIG).actions == [("create", "TDONLY", None)]
    assert disagreements(grouped, NOW, DEFAULT_CONFIG) == []


@pytest.mark.parametrize(("distant", "lines"), [(False, []), (True, ["Insc. BDD", "w9"])])
def test_rcaed334_is_normal_with_distant_0_and_case_a_with_distant_1(
    distant: bool, lines: list[str]
) -> None:
    """The seed's query shows DISTANT 0 yet says "situation a": the student's own row decides."""
    uni = _university(
        _pseudo_elp(),
        Group("ELP_RCAED334_CM", "CM"),
        Ip("1", "RCAED334", "ELP_RCAED334_CM", distant=distant, year=2025),
        Ip("2", "RCAED334", "ELP_RCAED334_CM", year=2025),
    )
    plan = plan_night(uni, NOW, DEFAULT_CONFIG)
    assert sorted(code for _level, code, _text, _elp, _etu in plan.lines) == lines
    expected = {"2": {"ELP_RCAED334_CM"}} if distant else {k: {"ELP_RCAED334_CM"} for k in "12"}
    assert plan.courses["RCAED334"].students == expected
    assert disagreements(uni, NOW, DEFAULT_CONFIG) == []
