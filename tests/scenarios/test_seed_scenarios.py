"""The seed's situations as data: every ``seed/*.yaml`` through the real broker and daemon.

Each file is one named test. The files are the contract of the rules
(README.md): a rule change that breaks one must change the file and say why
(``changed``). A file marked ``pending`` states the seed's expectation for a
situation the code does not handle yet (or handles against the seed): it is
an xfail(strict=True), so it fails loudly the day the code meets it, telling
the implementer to remove the mark.

The scenarios share the session's broker and producer; each has its own
topic prefix, consumer group, SQLite store and daemon on its own clock, so
they are independent: ``played`` plays the selected ones a few at a time
(``ECAMPUS_SCENARIO_WORKERS``, default 4: a scenario mostly waits for its
consumer group and its detection cycles), each test waiting for its own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from kafka import KafkaProducer

from monitor.config import Settings
from monitor.kafka.broker import EmbeddedBroker
from monitor.store.db import make_engine, upgrade
from tests.fixtures.broker import make_test_settings
from tests.fixtures.groups import group_of
from tests.scenarios.runner import Raised, compare, play
from tests.scenarios.scenario_file import load_scenario

pytestmark = pytest.mark.integration

SEED_DIR = Path(__file__).parent / "seed"
FILES = sorted(SEED_DIR.glob("*.yaml"))
WORKERS = int(os.environ.get("ECAMPUS_SCENARIO_WORKERS", "4"))


def _param(path: Path) -> object:
    scenario = load_scenario(path)
    marks = []
    if scenario.pending:
        marks.append(pytest.mark.xfail(reason=scenario.pending, strict=True))
    return pytest.param(path, id=path.stem, marks=marks)


def _play_file(
    path: Path, settings: Settings, store: Path, producer: KafkaProducer
) -> list[Raised]:
    scenario = load_scenario(path)
    engine = make_engine(f"sqlite:///{store}")
    try:
        return play(scenario, settings, engine, producer)
    finally:
        engine.dispose()


def _template_store(directory: Path) -> Path:
    """An empty store at the code's revision, copied for each scenario (Alembic is not
    thread-safe, and one upgrade is faster than sixty)."""
    template = directory / "template.sqlite"
    engine = make_engine(f"sqlite:///{template}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return template


class Played:
    """The scenarios played in this worker: a group's are submitted when one of its tests asks."""

    def __init__(
        self, selected: list[tuple[str, Path]], broker: str, producer: KafkaProducer, stores: Path
    ) -> None:
        self._selected = selected  # (group, path), in test order
        self._broker = broker
        self._producer = producer
        self._stores = stores
        self._template = _template_store(stores)
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="scenario")
        self._futures: dict[Path, Future[list[Raised]]] = {}

    def result(self, path: Path) -> list[Raised]:
        if path not in self._futures:
            group = next(g for g, p in self._selected if p == path)
            for other_group, other in self._selected:
                if other_group == group and other not in self._futures:
                    self._futures[other] = self._submit(other)
        return self._futures[path].result()

    def _submit(self, path: Path) -> Future[list[Raised]]:
        store = Path(shutil.copy(self._template, self._stores / f"{path.stem}.sqlite"))
        # Settings are read here, not in the player's thread: they read the environment,
        # which pytest changes between tests (PYTEST_CURRENT_TEST), and iterating it while
        # it changes fails.
        settings = make_test_settings(
            self._broker, f"sqlite:///{store}", f"s{uuid.uuid4().hex[:8]}."
        )
        return self._pool.submit(_play_file, path, settings, store, self._producer)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def played(
    request: pytest.FixtureRequest,
    kafka_broker: EmbeddedBroker,
    _session_producer: KafkaProducer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Played]:
    """The selected scenarios' players (each xdist worker collects them all, runs its groups)."""
    selected = [
        (group_of(item.nodeid), item.callspec.params["path"])  # type: ignore[attr-defined]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_seed_scenario"
    ]
    players = Played(
        selected,
        kafka_broker.bootstrap_servers,
        _session_producer,
        tmp_path_factory.mktemp("scenario-stores"),
    )
    try:
        yield players
    finally:
        players.close()


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_seed_scenario(path: Path, played: Played) -> None:
    scenario = load_scenario(path)
    raised = played.result(path)
    problems = compare(scenario.alerts, raised)
    assert not problems, f"{path.name}: {scenario.title}\n" + "\n".join(problems)


def test_there_are_at_least_thirty_scenarios() -> None:
    assert len(FILES) >= 30, [p.name for p in FILES]
