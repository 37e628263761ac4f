"""The scenario files themselves, without a broker: they load, build, and a bad one says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.registry import DETECTORS
from monitor.config import load_settings
from tests.scenarios.messages import ScenarioMessages
from tests.scenarios.scenario_file import ScenarioError, load_scenario, moment
from tests.scenarios.test_seed_scenarios import FILES

GOOD = """
title: Un scénario minimal
seed: Les espaces de cours créés automatiquement sont cachés
steps:
  - refer:
      T_ADE_ACTIVITES: [{COD_ELP: X1}]
      T_ADE_ACTIVITES_ETUDIANTS: [{COD_ETU: "1", COD_ELP: X1, DISTANT: 1}]
  - run: {}
expected: none
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "99_case.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_seed_file_loads_and_builds_its_messages(path: Path) -> None:
    scenario = load_scenario(path)
    phases = list(ScenarioMessages(scenario, load_settings()).phases())
    assert phases[-1][1] == scenario.now
    assert sum(len(messages) for messages, _ in phases) > 0


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_expected_alerts_name_known_detectors_and_causes(path: Path) -> None:
    """A scenario the code meets names only detectors and causes that exist (pending ones may
    name the ones they ask for)."""
    scenario = load_scenario(path)
    if scenario.pending:
        assert scenario.pending.strip(), "pending needs its why"
        return
    known = {d.name: d for d in DETECTORS}
    for alert in scenario.alerts:
        assert alert.detector in known, alert
        assert alert.cause in {c.code for c in known[alert.detector].causes}, alert


def test_a_minimal_file_gets_its_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    messages = [m for batch, _ in ScenarioMessages(scenario, load_settings()).phases()
                for m in batch]  # fmt: skip
    rows = {
        m.topic.split(".")[-1]: m.value["after"] for m in messages if m.value and "after" in m.value
    }
    assert rows["T_ADE_ACTIVITES"]["ETA_ELP"] == "O" and rows["T_ADE_ACTIVITES"]["ANNEE"] == 2026
    # The student's IA and account are implied; a distant IP gives a télé-enseignement IA.
    assert rows["T_ADE_IA"]["TELE_ENS"] == "O"
    assert rows["T_COMPTES"]["UID"] == "e1"
    runs = [m.value for m in messages if m.topic.endswith("lmsjonction.runs")]
    assert [r["status"] for r in runs if r] == ["running", "success"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("title: x\n", "title"),
        (GOOD.replace("expected: none", "expected: nothing"), "expected"),
        (GOOD.replace("T_ADE_ACTIVITES:", "T_ADE_ACTIVITEZ:"), "unknown REFER table"),
        (GOOD.replace("- run: {}", "- run: {}\n    check: morning"), "not a mix"),
        (GOOD.replace("- run: {}", "- check: tomorrow"), "is not a moment"),
        (GOOD + "pendng: typo\n", "pendng"),
        ("- a list\n", "a mapping"),
        ("title: [unclosed\n", "not valid YAML"),
    ],
    ids=[
        "no-fields",
        "bad-expected",
        "bad-table",
        "mixed-step",
        "bad-moment",
        "typo-field",
        "not-a-mapping",
        "bad-yaml",
    ],
)
def test_a_bad_file_is_a_clear_error(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(_write(tmp_path, text))
    assert "99_case.yaml" in str(error.value)
    assert says in str(error.value)


def test_an_update_of_a_row_never_published_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("{COD_ELP: X1}]", "{op: u, COD_ELP: X1}]")
    scenario = load_scenario(_write(tmp_path, text))
    with pytest.raises(ValueError, match="never published"):
        list(ScenarioMessages(scenario, load_settings()).phases())


def test_raw_moodle_rows_go_to_their_table(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - run: {}",
        "  - moodle:\n      rows: {mdl_user: [{id: 5, username: e1, deleted: 0}]}\n  - run: {}",
    )
    scenario = load_scenario(_write(tmp_path, text))
    messages = [m for batch, _ in ScenarioMessages(scenario, load_settings()).phases()
                for m in batch]  # fmt: skip
    users = [m.value for m in messages if m.topic.endswith(".mdl_user") and m.value]
    assert [u["after"]["username"] for u in users] == ["e1"]


def test_moments() -> None:
    assert moment("run_start - 1d + 10m").isoformat() == "2026-11-16T00:40:00+01:00"
    assert moment("2026-09-21T08:00").utcoffset() is not None
