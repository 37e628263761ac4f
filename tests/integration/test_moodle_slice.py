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
from monitor.config import HttpSettings
from monitor.kafka.events import publish
from monitor.store.schema import ingest_progress
from tests.fixtures.broker import SettingsFactory
from tests.integration.test_scored_university import ScoredDaemon, SimulatedClock, _wait_for
from tests.integration.university_slice import NOW, PORTE_GONE, SliceBuilder

pytestmark = pytest.mark.integration


def _play(
    kafka_settings: SettingsFactory,
    producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
    builder: SliceBuilder,
) -> tuple[set[tuple[str, str, str]], int]:
    """Publish the slice, let the daemon ingest it and detect once at NOW: alerts, dead letters."""
    # No HTTP API: the default port may be taken on a shared machine.
    settings = kafka_settings().model_copy(update={"http": HttpSettings(enabled=False)})
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


# --- issue 12: the seed's remaining situations, through the broker and the daemon ----------


def test_a_student_in_the_other_group_of_the_course_is_the_wrong_group_alert(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
) -> None:
    builder = SliceBuilder(wrong_group_student=SliceBuilder.students()[0])
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == {("group_missing", "HSL1HIS1", "wrong_group")}


def test_a_cohort_member_without_an_ip_on_the_element_is_flagged(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
) -> None:
    builder = SliceBuilder(cohort_student_without_ip=True)
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == {("forgotten_cohort_sync", "HSL1HIS1", "cohort_member_without_ip")}


def test_after_a_failed_night_a_missing_student_is_pending_and_one_run_alert_is_raised(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
) -> None:
    missing = SliceBuilder.students()[1]
    builder = SliceBuilder(missing_student=missing, failed_run=True)
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == {("sync_run_health", "run-slice", "run_failed")}


def test_a_porte_gone_from_refer_falls_under_the_collection_rule_not_elp_obsolete(
    kafka_settings: SettingsFactory,
    _session_producer: KafkaProducer,
    topic_prefix: str,
    sqlite_engine: Engine,
) -> None:
    builder = SliceBuilder(porte_gone=True)
    alerts, dead = _play(kafka_settings, _session_producer, topic_prefix, sqlite_engine, builder)
    assert dead == 0
    assert alerts == {("students_not_enrolled", PORTE_GONE, "porte_collection_not_shared")}
