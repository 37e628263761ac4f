"""The seed's situations as data: every ``seed/*.yaml`` through the real broker and daemon.

Each file is one named test. The files are the contract of the rules
(README.md): a rule change that breaks one must change the file and say why
(``changed``). A file marked ``pending`` states the seed's expectation for a
situation the code does not handle yet (or handles against the seed): it is
an xfail(strict=True), so it fails loudly the day the code meets it, telling
the implementer to remove the mark.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine

from tests.fixtures.broker import SettingsFactory
from tests.scenarios.runner import compare, play
from tests.scenarios.scenario_file import load_scenario

pytestmark = pytest.mark.integration

SEED_DIR = Path(__file__).parent / "seed"
FILES = sorted(SEED_DIR.glob("*.yaml"))


def _param(path: Path) -> object:
    scenario = load_scenario(path)
    marks = []
    if scenario.pending:
        marks.append(pytest.mark.xfail(reason=scenario.pending, strict=True))
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_seed_scenario(
    path: Path,
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    sqlite_engine: Engine,
) -> None:
    scenario = load_scenario(path)
    raised = play(scenario, kafka_settings(), sqlite_engine, _session_producer)
    problems = compare(scenario.alerts, raised)
    assert not problems, f"{path.name}: {scenario.title}\n" + "\n".join(problems)


def test_there_are_at_least_thirty_scenarios() -> None:
    assert len(FILES) >= 30, [p.name for p in FILES]
