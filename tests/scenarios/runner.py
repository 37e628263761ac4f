"""Play a scenario through the real broker and the real daemon; read back the alerts it raised.

The daemon (``monitor.daemon.Daemon``, ingest and detection threads, SQLite
store) runs on a simulated clock. Each phase of the scenario is published to
the session's embedded broker on the scenario's own topics; once the daemon's
consumer group has committed everything the broker acknowledged, the clock
moves to the phase's checkpoint and ``Daemon.settle()`` waits for a whole
detection cycle (ahead of the night, after the run, daily, continuous).
Detection is held while a phase is published, so sources are never compared
half-ingested. No sleep decides anything: only the daemon's own progress.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer, TopicPartition
from sqlalchemy import Engine, select

from alerts.tables import alert
from monitor.config import Settings
from monitor.kafka.events import publish
from tests.integration.test_scored_university import ScoredDaemon, SimulatedClock, _wait_for
from tests.scenarios.messages import ScenarioMessages
from tests.scenarios.scenario_file import ExpectedAlert, Scenario

# Daemons start one at a time: starting checks the store's revision with Alembic, which
# loads its scripts as modules and is not thread-safe (scenarios may be played in threads).
_STARTING = threading.Lock()


@dataclass(frozen=True, order=True)
class Raised:
    """An alert as the comparison sees it."""

    detector: str
    subject: str
    cause: str
    status: str
    phase: str
    recipient: str
    cod_cmp: str | None

    def matches(self, expected: ExpectedAlert) -> bool:
        mine = (self.detector, self.subject, self.cause, self.status, self.phase, self.recipient)
        theirs = (expected.detector, expected.subject, expected.cause, expected.status,
                  expected.phase, expected.recipient)  # fmt: skip
        return mine == theirs and expected.cod_cmp in (None, self.cod_cmp)

    def line(self) -> str:
        return (
            f"- {{detector: {self.detector}, subject: {self.subject!r}, cause: {self.cause}, "
            f"status: {self.status}, phase: {self.phase}, recipient: {self.recipient}, "
            f"cod_cmp: {self.cod_cmp!r}}}"
        )


def with_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """``settings`` with the scenario's section overrides (``rules: {ia_replacement_defect: …}``)."""
    update: dict[str, Any] = {}
    for section, values in overrides.items():
        current = getattr(settings, section)
        update[section] = type(current).model_validate({**current.model_dump(), **values})
    return settings.model_copy(update=update)


def play(
    scenario: Scenario, settings: Settings, engine: Engine, producer: KafkaProducer
) -> list[Raised]:
    """Publish every phase, detect at each checkpoint; the alerts in the store at the end."""
    settings = with_overrides(settings, {"http": {"enabled": False}, **scenario.settings})
    phases = list(ScenarioMessages(scenario, settings).phases())
    clock = SimulatedClock(phases[0][1] or scenario.now)
    scored = ScoredDaemon(settings, engine, clock)
    with _STARTING:
        scored.__enter__()
    try:
        ends: dict[TopicPartition, int] = {}
        for messages, checkpoint in phases:
            list(publish(producer, messages, ends))
            _wait_for(scored._ingested(ends), f"the phase before {checkpoint}",
                      scored._still_running)  # fmt: skip
            if checkpoint is None:
                continue
            clock.now = checkpoint
            scored.daemon.detection_held.clear()
            scored.daemon.settle()
            scored.daemon.detection_held.set()
            scored._still_running()
    finally:
        scored.__exit__(None, None, None)
    columns = (alert.c.detector, alert.c.subject, alert.c.cause, alert.c.status, alert.c.phase,
               alert.c.audience, alert.c.cod_cmp)  # fmt: skip
    with engine.connect() as conn:
        return sorted(Raised(*row) for row in conn.execute(select(*columns)))


def compare(expected: list[ExpectedAlert], raised: list[Raised]) -> list[str]:
    """The differences, in words: expected alerts not raised, raised alerts not expected."""
    left = list(raised)
    missing: list[ExpectedAlert] = []
    for wanted in expected:
        found = next((r for r in left if r.matches(wanted)), None)
        if found is None:
            missing.append(wanted)
        else:
            left.remove(found)
    problems = [f"missing: {m.model_dump(exclude_none=True)}" for m in missing]
    problems += [f"not expected: {r.line()}" for r in left]
    return problems
