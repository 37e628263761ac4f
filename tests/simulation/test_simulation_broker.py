"""``tiny`` for two nights through the real embedded broker, then the daemon's ingest loop."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.metrics import Metrics
from monitor.simulation import Simulation, publish_to_kafka
from monitor.simulation.university import SOURCE_ENTITIES
from monitor.store.schema import fact_tables
from monitor.store.snapshot import load_facts
from tests.fixtures.broker import SettingsFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INGEST_TIMEOUT_SECONDS = 240


def _published(bootstrap: str, topics: list[str]) -> Counter[str]:
    """Messages on each topic, read back from the beginning.

    Counted by reading, not from the end offsets: Tansu 0.x answers ListOffsets
    (latest) below the true log end once partitions hold several batches.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, consumer_timeout_ms=5000, max_poll_records=5000
    )
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t)
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        return Counter(message.topic for message in consumer)
    finally:
        consumer.close()


def _consumed(registry: CollectorRegistry, topics: list[str]) -> float:
    return sum(
        registry.get_sample_value("ecampus_monitor_events_consumed_total", {"topic": t}) or 0
        for t in topics
    )


def _dead_lettered(registry: CollectorRegistry) -> float:
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "ecampus_monitor_events_dead_lettered"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def test_tiny_for_two_nights_is_published_and_ingested_without_dead_letters(
    kafka_broker: EmbeddedBroker, kafka_settings: SettingsFactory, sqlite_engine: Engine
) -> None:
    settings = kafka_settings()
    simulation = Simulation("tiny", seed=2, nights=2, sources=settings.sources)
    topics = simulation.topics()
    # One partition a topic: each poll of the consumer walks every assigned partition.
    counts = publish_to_kafka(
        kafka_broker.bootstrap_servers, simulation.events(), topics, partitions=1
    )
    assert _published(kafka_broker.bootstrap_servers, topics) == counts
    assert sum(counts.values()) > simulation.snapshot_size()

    registry = CollectorRegistry()
    now = datetime(2026, 10, 8, 12, 0, tzinfo=UTC)
    with IngestLoop(settings, sqlite_engine, Metrics(registry), clock=lambda: now) as loop:
        deadline = time.monotonic() + INGEST_TIMEOUT_SECONDS
        while _consumed(registry, topics) < sum(counts.values()):
            assert time.monotonic() < deadline, "the ingest loop did not catch up"
            loop.run_once()
    assert _dead_lettered(registry) == 0
    with sqlite_engine.connect() as conn:
        for entity in SOURCE_ENTITIES:
            table = fact_tables[entity]
            live = select(func.count()).select_from(table).where(table.c.tombstone.is_(False))
            assert conn.execute(live).scalar_one() == len(simulation.uni.tables[entity]), entity
        # Moodle arrives as Moodle's own rows: its canonical views resolve back, whole.
        facts = load_facts(conn)
        tables = simulation.uni.tables
        assert len(facts.courses) == len(tables["moodle_course"])
        assert len(facts.enrolments) == len(tables["moodle_enrolment"])
        assert len(facts.group_members) == len(tables["moodle_group_member"])
