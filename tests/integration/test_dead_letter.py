"""Bad messages go to ``<topic>.dlq`` with their original bytes, and ingest goes on."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.kafka.ingest.dead_letter import DeadLetterQueue, DeadLetterUnavailable
from monitor.kafka.ingest.decode import InvalidMessage
from monitor.metrics import Metrics
from monitor.store.entities import KEY_SEPARATOR
from monitor.store.schema import fact_tables, ingest_progress
from tests.fixtures.broker import Produce, SettingsFactory, debezium_event, topic_of

pytestmark = pytest.mark.integration

T0 = 1_790_000_000_000
STUDENT = "21977777"  # personal data: must not appear in logs above DEBUG


def read_all(broker: EmbeddedBroker, topic: str, expected: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records: list[Any] = []
    for _ in range(50):
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        if len(records) >= expected:
            break
    consumer.close()
    return records


def test_bad_messages_are_dead_lettered_with_their_bytes_and_the_next_one_is_applied(
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    produce: Produce,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = kafka_settings(entities=["ip", "elp"])
    ip_topic, elp_topic = topic_of(settings, "ip"), topic_of(settings, "elp")
    row = {"COD_ETU": STUDENT, "COD_ELP": "INF1101", "IDGROUPE": "G1", "DISTANT": "N"}
    not_json = b'{"op": "c", "after": {"COD_ETU": "' + STUDENT.encode() + b'"'
    invalid = json.dumps({"op": "c", "after": row}).encode()  # no "source"
    unknown_code = json.dumps(
        debezium_event(
            {"COD_ELP": "INF1101", "LIB_ELP": "Algo", "COD_CMP": "SCI", "ETA_ELP": "Z"},
            table="T_ADE_ACTIVITES",
        )
    ).encode()
    registry = CollectorRegistry()
    loop = IngestLoop(
        settings,
        sqlite_engine,
        Metrics(registry),
        clock=lambda: datetime(2026, 11, 30, tzinfo=UTC),
    )
    caplog.set_level(logging.INFO)
    with loop:
        # One key, so one partition: the good message comes after the bad ones.
        sent = {
            "not_json": produce(ip_topic, not_json, key=STUDENT),
            "invalid_event": produce(ip_topic, invalid, key=STUDENT),
        }
        sent["unmappable_row"] = produce(elp_topic, unknown_code, key="INF1101")
        produce(ip_topic, debezium_event(row, ts_ms=T0), key=STUDENT)
        good_key = f"{STUDENT}{KEY_SEPARATOR}INF1101"

        def applied() -> bool:
            with sqlite_engine.connect() as conn:
                return conn.execute(
                    select(func.count()).where(fact_tables["ip"].c.key == good_key)
                ).scalar_one() == 1 and (
                    registry.get_sample_value(
                        "ecampus_monitor_events_consumed_total", {"topic": elp_topic}
                    )
                    == 1
                )

        for _ in range(200):
            if applied():
                break
            loop.run_once()
        assert applied()

    originals = {"not_json": not_json, "invalid_event": invalid, "unmappable_row": unknown_code}
    dead = [json.loads(r.value) for r in read_all(kafka_broker, f"{ip_topic}.dlq", 2)]
    dead += [json.loads(r.value) for r in read_all(kafka_broker, f"{elp_topic}.dlq", 1)]
    assert sorted(d["error_kind"] for d in dead) == ["invalid_event", "not_json", "unmappable_row"]
    for record in dead:
        kind = record["error_kind"]
        assert base64.b64decode(record["original_value_b64"]) == originals[kind]
        metadata = sent[kind]
        assert (record["topic"], record["partition"], record["offset"]) == (
            metadata.topic,
            metadata.partition,
            metadata.offset,
        )
        assert record["timestamp"] == metadata.timestamp
        assert record["error"]
    assert {base64.b64decode(d["original_key_b64"]) for d in dead if d["topic"] == ip_topic} == {
        STUDENT.encode()
    }
    dlq_keys = {r.key for r in read_all(kafka_broker, f"{ip_topic}.dlq", 2)}
    assert dlq_keys == {STUDENT.encode()}  # the dead-letter record keeps the original key

    def dead_lettered(topic: str, reason: str) -> float | None:
        return registry.get_sample_value(
            "ecampus_monitor_events_dead_lettered_total", {"topic": topic, "reason": reason}
        )

    assert dead_lettered(ip_topic, "not_json") == 1
    assert dead_lettered(ip_topic, "invalid_event") == 1
    assert dead_lettered(elp_topic, "unmappable_row") == 1
    with sqlite_engine.connect() as conn:
        progress = dict(
            conn.execute(
                select(ingest_progress.c.topic, func.sum(ingest_progress.c.dead_lettered)).group_by(
                    ingest_progress.c.topic
                )
            ).all()
        )
    assert progress == {ip_topic: 2, elp_topic: 1}

    above_debug = [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]
    assert any("dead-lettering" in message for message in above_debug)
    assert not [m for m in above_debug if STUDENT in m]


class _FailingFuture:
    def get(self, timeout: float | None = None) -> Any:
        raise KafkaTimeoutError("no acknowledgement")


class _AcknowledgedFuture:
    def get(self, timeout: float | None = None) -> Any:
        return None


class _FlakyProducer:
    """Kafka fails to acknowledge the first send, then acknowledges."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None]] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        self.sent.append((topic, value, key))
        return _FailingFuture() if len(self.sent) == 1 else _AcknowledgedFuture()


class _Message:
    topic = "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS"
    partition = 2
    offset = 41
    timestamp = T0
    key = b"21900001"
    value = b"{not json"


def test_an_unacknowledged_dead_letter_is_sent_again_and_counted_once() -> None:
    registry = CollectorRegistry()
    producer = _FlakyProducer()
    dlq = DeadLetterQueue(producer, ".dlq", Metrics(registry))
    dlq.send(_Message(), InvalidMessage("not_json", "Invalid JSON"))

    with pytest.raises(DeadLetterUnavailable):
        dlq.flush()
    assert dlq.flush() == 1

    assert [topic for topic, _, _ in producer.sent] == [
        "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS.dlq"
    ] * 2
    assert (
        registry.get_sample_value(
            "ecampus_monitor_events_dead_lettered_total",
            {"topic": _Message.topic, "reason": "not_json"},
        )
        == 1
    )
    assert dlq.pending == 0
