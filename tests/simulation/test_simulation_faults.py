"""Fault injection: the configuration, the ground truth, and what the model makes of both."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from simulation_fixtures import PlayedSimulation

from detectors.facts import AdeFiche
from detectors.model import CAUSES, Refusal, expected_state
from monitor.simulation import FaultConfig, NoTarget, ScheduleError, Simulation, run_night
from monitor.simulation.fault_kinds import FAULT_KINDS
from monitor.simulation.faults import read_truth, write_truth
from monitor.simulation.lmsjonction import NightOptions
from monitor.simulation.scoring import score, truth_keys

MODEL_DETECTORS = ("students_not_enrolled", "group_missing", "teacher_missing")


def _fiche_of(refusal: Refusal) -> str:
    """A refusal on a fiche made only in ADE is about that fiche (its alert's subject)."""
    return next(f.fiche_id for f in refusal.facts if isinstance(f, AdeFiche))


def test_yaml_counts_override_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "default: 0\nstudents_not_enrolled:\n  foad_case_a: 3\nsync_run_health:\n  late_run: 1\n"
    )
    config = FaultConfig.from_yaml(path)
    counts = {f"{d}.{v}": n for d, v, n in config.counts() if n}
    assert counts == {"students_not_enrolled.foad_case_a": 3, "sync_run_health.late_run": 1}


def test_without_default_every_data_fault_counts_one_and_run_faults_none() -> None:
    config = FaultConfig()
    for section, _variant, count in config.counts():
        assert count == (0 if section == "sync_run_health" else 1)


@pytest.mark.parametrize(
    "data",
    [{"group_missing": {"foad_case_z": 1}}, {"course_hidden": {"hidden_with_students": -1}}],
)
def test_a_wrong_fault_configuration_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaultConfig.model_validate(data)


def test_every_data_fault_kind_has_an_injector() -> None:
    keys = {f"{d}.{v}" for d, v, _n in FaultConfig().counts() if d != "sync_run_health"}
    assert keys == set(FAULT_KINDS)


def test_every_configured_fault_is_in_the_ground_truth_once(
    every_fault_tiny: PlayedSimulation,
) -> None:
    primary = Counter(r.fault for r in every_fault_tiny.simulation.truth if r.primary)
    expected = {f"{d}.{v}": n for d, v, n in FaultConfig.every_kind(1).counts()}
    assert primary == expected


def test_counts_above_one_are_injected_as_many_times() -> None:
    config = FaultConfig.model_validate(
        {
            "default": 0,
            "students_not_enrolled": {"ip_without_group": 2, "elp_suspended": 2},
            "forgotten_cohort_sync": {"too_old": 3},
            "account_missing_email": {"guest": 2},
        }
    )
    simulation = Simulation("small", seed=11, nights=2, faults=config)
    for _ in simulation.events():
        pass
    primary = Counter(r.fault for r in simulation.truth if r.primary)
    assert primary == {
        "students_not_enrolled.ip_without_group": 2,
        "students_not_enrolled.elp_suspended": 2,
        "forgotten_cohort_sync.too_old": 3,
        "account_missing_email.guest": 2,
    }
    # Distinct targets: one alert per fault.
    subjects = [r.expected_alert_subject for r in simulation.truth if r.primary]
    assert len(set(subjects)) == len(subjects)


def test_the_model_refuses_exactly_what_was_injected(every_fault_tiny: PlayedSimulation) -> None:
    simulation = every_fault_tiny.simulation
    end = simulation.snapshot_at + timedelta(days=simulation.schedule.nights + 1)
    state = expected_state(simulation.uni.fact_set(), end, simulation.model_config)
    refused = {
        (r.cause, r.cod_elp or _fiche_of(r))
        for r in state.refusals()
        if r.cause != "outgoing_exchange"
    }
    for record in simulation.truth:
        # Moodle edits (a student moved to another group by hand) are no refusal of the model.
        if record.primary and record.detector in MODEL_DETECTORS and record.cause in CAUSES:
            assert (record.cause, record.expected_alert_subject) in refused, record
    touched = {r.cod_elp for r in simulation.truth} | {r.fiche_id for r in simulation.truth}
    touched |= {r.expected_alert_subject for r in simulation.truth}
    stray = {(cause, subject) for cause, subject in refused if subject not in touched}
    assert stray == set()


def test_the_nights_apply_the_model_to_moodle(every_fault_tiny: PlayedSimulation) -> None:
    """After the last night, lmsjonction has nothing left to do: Moodle is what the model says."""
    simulation = every_fault_tiny.simulation
    last_run = simulation.uni.runs[-1]
    options = NightOptions(
        "check",
        last_run.started_at + timedelta(hours=1),
        config=simulation.model_config,
        team_enrolled_fiches=frozenset(simulation.state.team_enrolled_fiches),
    )
    assert run_night(simulation.uni, options, simulation.state.cal).changes == 0


def test_run_reports_carry_the_seed_s_warnings_and_errors(
    every_fault_tiny: PlayedSimulation,
) -> None:
    reports = [
        m.value for m in every_fault_tiny.messages if m.topic == "lmsjonction.runs" and m.value
    ]
    statuses = Counter(r["status"] for r in reports)
    assert statuses["failed"] == 1
    codes = Counter((m["level"], m["code"]) for r in reports for m in r["messages"])
    assert codes[("warning", "w9")] > 50  # the spike night alone has more than 50
    assert codes[("error", "Insc. BDD")] > 0
    assert codes[("alert", "group_exists")] > 0
    assert codes[("error", "run_failed")] == 1


def test_clean_nights_stay_clean(clean_nights_tiny: PlayedSimulation) -> None:
    simulation = clean_nights_tiny.simulation
    assert simulation.truth == []
    reports = [
        m.value
        for m in clean_nights_tiny.messages
        if m.topic == "lmsjonction.runs" and m.value and m.value["status"] != "running"
    ]
    assert len(reports) == 5  # night 0 and four nights
    assert all(r["status"] == "success" for r in reports)
    # Only the run's line per student enrolled or unenrolled: no warning, error or alert.
    assert {m["level"] for r in reports for m in r["messages"]} <= {"info"}
    end = simulation.uni.runs[-1].started_at + timedelta(hours=1)
    state = expected_state(simulation.uni.fact_set(), end, simulation.model_config)
    assert {r.cause for r in state.refusals()} <= {"outgoing_exchange"}


def test_run_faults_need_nights_of_their_own() -> None:
    config = FaultConfig.model_validate(
        {"default": 0, "sync_run_health": {"missing_run": 2, "failed_run": 1}}
    )
    with pytest.raises(ScheduleError, match="--nights 4"):
        Simulation("small", seed=1, nights=2, faults=config)


def test_a_warnings_spike_needs_three_runs_before_it() -> None:
    config = FaultConfig.model_validate({"default": 0, "sync_run_health": {"warnings_spike": 1}})
    with pytest.raises(ScheduleError, match="warnings spike"):
        Simulation("small", seed=1, nights=2, faults=config)


def test_too_many_faults_for_the_scale_say_so() -> None:
    config = FaultConfig.model_validate({"default": 0, "group_missing": {"foad_case_f": 500}})
    simulation = Simulation("small", seed=1, nights=1, faults=config)
    with pytest.raises(NoTarget, match="foad_case_f"):
        for _ in simulation.events():
            pass


def test_ia_replacement_faults_need_the_defect() -> None:
    config = FaultConfig.model_validate(
        {
            "default": 0,
            "ia_replacement_defect": False,
            "students_not_enrolled": {"ia_cancelled_replaced": 1},
        }
    )
    with pytest.raises(ScheduleError, match="ia_replacement_defect"):
        Simulation("small", seed=1, nights=1, faults=config)


def test_ground_truth_round_trips_as_json_lines(
    every_fault_tiny: PlayedSimulation, tmp_path: Path
) -> None:
    path = tmp_path / "ground_truth.jsonl"
    write_truth(path, every_fault_tiny.simulation.truth)
    records = read_truth(path)
    assert len(records) == len(every_fault_tiny.simulation.truth)
    assert truth_keys(records) == truth_keys(every_fault_tiny.simulation.truth)
    assert all(
        {"detector", "cause", "injected_at", "expected_alert_subject"} <= r.keys() for r in records
    )


def test_scores_count_matches_misses_and_surprises() -> None:
    expected = {("d", "A", "x"), ("d", "B", "x"), ("e", "C", "y")}
    raised = {("d", "A", "x"), ("d", "Z", "x")}
    scores = score(raised, expected)
    assert scores["d"].precision == 0.5 and scores["d"].recall == 0.5
    assert scores["e"].recall == 0.0 and scores["e"].precision is None
    assert scores["d"].missed == (("d", "B", "x"),)
