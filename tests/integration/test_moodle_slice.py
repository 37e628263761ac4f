"""A consistent university slice, Moodle as Moodle is, through the real broker and daemon.

REFER and ADE rows and Moodle's own rows (users, courses, contexts, one
enrol_database instance per course, user enrolments, role assignments,
groups, memberships, a cohort sync) in, as their sources publish them: a
consistent slice raises no alert and dead-letters nothing; the same slice
with one student missing from Moodle raises exactly that alert.
"""

from __future__ import annotations

import pytest
from kafka import KafkaProducer, TopicPartition
from sqlalchemy import Engine, func, select

from alerts.tables import alert
from monitor.events import publish
from monitor.store.schema import ingest_progress
from tests.fixtures.broker import SettingsFactory
from tests.integration.test_scored_university import ScoredDaemon, SimulatedClock, _wait_for
from tests.integration.university_slice import NOW, SliceBuilder

pytestmark = pytest.mark.integration


def _play(
    kafka_settings: SettingsFactory,
    producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
    builder: SliceBuilder,
) -> tuple[set[tuple[str, str, str]], int]:
    """Publish the slice, let the daemon ingest it and detect once at NOW: alerts, dead letters."""
    settings = kafka_settings()
    builder.prefix = topic_prefix
    clock = SimulatedClock(NOW)
    with ScoredDaemon(settings, sqlite_engine, clock) as scored:
        ends: dict[TopicPartition, int] = {}
        list(publish(producer, builder.build(), ends))
        _wait_for(scored._ingested(ends), "the slice", scored._still_running)
        scored.daemon.detection_held.clear()
        scored.daemon.settle()
        scored._still_running()
    with sqlite_engine.connect() as conn:
        alerts = {(d, s, c) for d, s, c in conn.execute(select(alert.c.detector, alert.c.subject,
                                                                alert.c.cause))}  # fmt: skip
        dead = conn.execute(select(func.sum(ingest_progress.c.dead_lettered))).scalar() or 0
    return alerts, int(dead)


@pytest.mark.parametrize(
    "oracle_numbers",
    [False, True],
    ids=["plain-numbers", "oracle-precise-numbers"],
)
def test_a_consistent_slice_raises_nothing_and_dead_letters_nothing(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
    oracle_numbers: bool,
) -> None:
    builder = SliceBuilder(oracle_numbers=oracle_numbers)
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == set()


def test_a_student_missing_from_the_course_is_exactly_the_alert(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
) -> None:
    missing = SliceBuilder.students()[1]
    builder = SliceBuilder(missing_student=missing)
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == {("students_not_enrolled", "HSL1HIS1", "missing_after_run")}
