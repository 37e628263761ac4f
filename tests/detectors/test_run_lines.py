"""lmsjonction's report lines: shown on findings, and cross-checked against the model."""

from __future__ import annotations

from datetime import timedelta

from model_builders import NOW, collection, elp, ip, with_collections

from detectors.base import DetectorConfig
from detectors.facts import RunMessage, SyncRun
from detectors.known import run_report_check, students_not_enrolled
from detectors.shared.run_lines import CAUSE, divergences, lines_about
from detectors.state import FactSet

TD = collection("XC", {"X_TD1": "TD 1", "X_CEMU": "Groupe CEMU"}, ("X",))
STARTED = NOW - timedelta(hours=6)


def _run(*messages: RunMessage) -> SyncRun:
    return SyncRun(
        "night-1",
        STARTED,
        STARTED + timedelta(minutes=20),
        "success",
        messages=messages,
        as_of=STARTED + timedelta(minutes=20),
    )


def _facts(*messages: RunMessage, distant: bool = False) -> FactSet:
    old = STARTED - timedelta(days=2)
    return with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("1", "X", "X_TD1", as_of=old), ip("2", "X", "X_TD1", distant=distant, as_of=old)],
        runs=[_run(*messages)],
    )


REFUSED_1 = RunMessage("error", "Insc. BDD", "Insc. BDD : 1 non inscrit au cours X", "X", "1")


def test_a_refusal_the_model_does_not_expect_goes_to_cemu_with_both_versions() -> None:
    found = divergences(_facts(REFUSED_1), NOW, DetectorConfig(), "sync_run_health")
    [finding] = found
    assert finding.cause == CAUSE and finding.audience == "cemu" and finding.cod_elp == "X"
    [row] = finding.evidence
    assert row.who == "1"
    assert row.fact == "lmsjonction : « Insc. BDD : 1 non inscrit au cours X » ; modèle : inscrit"
    assert "divergent" in finding.title


def test_lines_the_model_predicts_raise_nothing() -> None:
    """Student 2's IA in télé-enseignement on a presential ELP, non-CEMU group: case a."""
    lines = (
        RunMessage("error", "Insc. BDD", "Insc. BDD : 2 non inscrit au cours X", "X", "2"),
        RunMessage("warning", "w9", "w9, mise à jour des groupes : 2 sans groupe dans X", "X", "2"),
        RunMessage("info", "enrol", "Insc. BDD : 1 inscrit au cours X", "X", "1"),
    )
    assert divergences(_facts(*lines, distant=True), NOW, DetectorConfig(), "x") == []


def test_an_enrolment_the_model_refuses_is_a_divergence() -> None:
    line = RunMessage("info", "enrol", "Insc. BDD : 2 inscrit au cours X", "X", "2")
    [finding] = divergences(_facts(line, distant=True), NOW, DetectorConfig(), "x")
    assert "modèle : non inscrit (" in finding.evidence[0].fact


def test_a_line_about_facts_changed_since_the_run_started_is_not_judged() -> None:
    facts = with_collections(
        TD,
        elps=[elp("X")],
        ips=[ip("1", "X", "X_TD1", as_of=STARTED + timedelta(hours=1))],
        runs=[_run(REFUSED_1)],
    )
    assert divergences(facts, NOW, DetectorConfig(), "x") == []


def test_the_run_report_check_raises_the_divergence_on_the_whole_state_only() -> None:
    facts, config = _facts(REFUSED_1), DetectorConfig()
    found = run_report_check.detect(facts, now=NOW, scope=None, config=config)
    assert [(f.detector, f.cause) for f in found] == [("run_report_check", CAUSE)]
    assert run_report_check.detect(facts, now=NOW, scope=["X"], config=config) == []


def test_report_lines_are_evidence_on_the_element_s_findings() -> None:
    lines = (
        RunMessage("error", "Insc. BDD", "Insc. BDD : 2 non inscrit au cours X", "X", "2"),
        RunMessage("warning", "w9", "w9, mise à jour des groupes : 2 sans groupe dans X", "X", "2"),
    )
    facts = _facts(*lines, distant=True)
    shown = [e.fact for e in lines_about(facts, "X", NOW)]
    assert shown == [
        "rapport de lmsjonction night-1 : Insc. BDD : 2 non inscrit au cours X",
        "rapport de lmsjonction night-1 : w9, mise à jour des groupes : 2 sans groupe dans X",
    ]
    findings = students_not_enrolled.detect(facts, now=NOW, scope=None, config=DetectorConfig())
    [case_a] = [f for f in findings if f.cause == "foad_case_a"]
    assert set(shown) <= {e.fact for e in case_a.evidence}
