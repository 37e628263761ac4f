"""The source poller against real databases and the real broker.

Moodle's tables as ``monitor.store.moodle_schema`` declares them (the same definitions
the monitor reads and stores), on MariaDB and on PostgreSQL: the first read
publishes ``r``, then an insert, an update and a delete publish ``c``, ``u`` and
``d`` (and its tombstone) on the default topic of the table, in the real
connector's contract, and reach the store's raw Moodle table through the
default mapping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, MetaData, create_engine, delete, insert, select, update

from monitor.clock import Clock, ManualClock
from monitor.config import Settings
from monitor.kafka.broker import EmbeddedBroker, ensure_topics
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.kafka.ingest.kafka_options import client_options
from monitor.metrics import Metrics
from monitor.sources.poller import SourcePoller
from monitor.sources.reconcile import reconcile_table
from monitor.store.moodle_schema import moodle_tables
from monitor.store.schema import fact_tables
from tests.fixtures.broker import SettingsFactory, topic_of

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Any]:
    """Every record of ``topic`` from the start, once ``expected`` of them are there."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # Anything beyond what was expected would be a bug: wait one more poll for it.
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset))


def ops(records: list[Any]) -> list[str | None]:
    return [json.loads(r.value)["op"] if r.value is not None else None for r in records]


@pytest.fixture
def producer(kafka_broker: EmbeddedBroker) -> Iterator[KafkaProducer]:
    made = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
    yield made
    made.close()


def make_poller(
    settings: Settings,
    source: str,
    source_db: Engine,
    store: Engine,
    producer: KafkaProducer,
    clock: Clock | None = None,
) -> SourcePoller:
    poller = SourcePoller(
        settings,
        source,
        source_db,
        store,
        producer,
        metrics=Metrics(CollectorRegistry()),
        clock=clock or ManualClock(NOW),
    )
    ensure_topics(client_options(settings.kafka), [t.topic for t in poller.tables])
    return poller


def ingest_everything(settings: Settings, store: Engine, topic: str, events: int) -> None:
    """The daemon's own ingest loop, until ``events`` records of ``topic`` are in the store."""
    from tests.integration.test_ingest import consume_until, events_recorded

    loop = IngestLoop(settings, store, Metrics(CollectorRegistry()), clock=lambda: NOW)
    with loop:
        consume_until(loop, lambda: events_recorded(store, topic) >= events, timeout=60)


@pytest.fixture(params=["mariadb", "postgres"])
def moodle_db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = request.getfixturevalue(f"{request.param}_url")
    engine = create_engine(url)
    metadata = MetaData()
    moodle_tables(metadata=metadata)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_moodle_tables_insert_update_delete_are_r_then_c_u_d_on_the_topic(
    moodle_db: Engine,
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    producer: KafkaProducer,
) -> None:
    tables = moodle_tables()
    with moodle_db.begin() as conn:
        conn.execute(
            insert(tables["course"]),
            [
                {
                    "id": 7,
                    "category": 3,
                    "fullname": "Algorithmique",
                    "shortname": "ALGO",
                    "idnumber": "INF1101",
                    "startdate": 1788220800,
                    "visible": 1,
                },
                {
                    "id": 9,
                    "category": 999,
                    "fullname": "Vieux cours",
                    "shortname": "OLD",
                    "idnumber": "INF0001",
                    "startdate": 1756684800,
                    "visible": 0,
                },
            ],
        )
        conn.execute(
            insert(tables["enrol"]),
            [
                {
                    "id": 70,
                    "enrol": "database",
                    "courseid": 7,
                    "roleid": 5,
                    "timecreated": 1788000000,
                }
            ],
        )
        conn.execute(
            insert(tables["user_enrolments"]),
            [
                {
                    "id": i,
                    "status": 0,
                    "enrolid": 70,
                    "userid": 100 + i,
                    "timestart": 1788220800,
                    "timeend": 0,
                    "timecreated": 1788000000,
                    "timemodified": 1788000000,
                }
                for i in (1, 2, 3)
            ],
        )
    settings = kafka_settings(entities=["mdl_course", "mdl_enrol", "mdl_user_enrolments"])
    poller = make_poller(settings, "moodle", moodle_db, sqlite_engine, producer)
    ue_topic = topic_of(settings, "mdl_user_enrolments")
    bootstrap = kafka_broker.bootstrap_servers

    first = {r.topic.split(".")[-1]: r.ops for r in poller.run_pass()}
    assert first == {
        "mdl_course": {"r": 2, "c": 0, "u": 0, "d": 0},
        "mdl_enrol": {"r": 1, "c": 0, "u": 0, "d": 0},
        "mdl_user_enrolments": {"r": 3, "c": 0, "u": 0, "d": 0},
    }
    records = read_topic(bootstrap, ue_topic, 3)
    assert ops(records) == ["r", "r", "r"]
    event = json.loads(records[0].value)
    assert json.loads(records[0].key) == {"id": 1}  # keyed by the primary key struct
    assert event["after"] == {
        "id": 1,
        "enrolid": 70,
        "userid": 101,
        "status": 0,
        "timestart": 1788220800,
        "timeend": 0,
        "timecreated": 1788000000,
        "timemodified": 1788000000,
    }
    assert event["source"]["connector"] == "ecampus-monitor-poller"
    assert event["source"]["table"] == "mdl_user_enrolments"
    assert event["source"]["snapshot"] == "true"
    assert event["source"]["ts_ms"] == int(NOW.timestamp() * 1000)
    # The pass's time and its end are the poller's clock's (a manual one: no time passed).
    assert poller.metrics is not None
    registry = poller.metrics.registry
    assert (
        registry.get_sample_value(
            "ecampus_monitor_source_poll_last_success_timestamp_seconds", {"source": "moodle"}
        )
        == NOW.timestamp()
    )
    assert (
        registry.get_sample_value("ecampus_monitor_source_poll_seconds", {"source": "moodle"})
        == 0.0
    )

    # An unchanged second read publishes nothing.
    assert all(sum(r.ops.values()) == 0 for r in poller.run_pass())

    ue = tables["user_enrolments"]
    with moodle_db.begin() as conn:
        conn.execute(
            insert(ue).values(
                id=4, status=0, enrolid=70, userid=104, timestart=1788220800, timeend=0
            )
        )
        conn.execute(update(ue).where(ue.c.id == 2).values(status=1))  # suspended
        conn.execute(delete(ue).where(ue.c.id == 3))
    second = {r.topic.split(".")[-1]: r.ops for r in poller.run_pass()}
    assert second["mdl_user_enrolments"] == {"r": 0, "c": 1, "u": 1, "d": 1}
    assert sum(second["mdl_course"].values()) == 0

    records = read_topic(bootstrap, ue_topic, 7)
    by_op = {json.loads(r.value)["op"]: json.loads(r.value) for r in records if r.value}
    assert by_op["c"]["after"]["id"] == 4 and by_op["c"]["before"] is None
    assert by_op["u"]["before"]["status"] == 0 and by_op["u"]["after"]["status"] == 1
    assert by_op["d"]["before"]["id"] == 3 and by_op["d"]["after"] is None
    tombstones = [r for r in records if r.value is None]
    assert [json.loads(r.key) for r in tombstones] == [{"id": 3}]

    # The daemon's ingest takes them as it takes Debezium's, through the default mapping:
    # the store's raw mdl_user_enrolments follows the table.
    ingest_everything(settings, sqlite_engine, ue_topic, 7)
    with sqlite_engine.connect() as conn:
        rows = {
            r.key: (r.userid, r.status, r.tombstone)
            for r in conn.execute(select(fact_tables["mdl_user_enrolments"]))
        }
    assert rows == {
        "1": (101, 0, False),
        "2": (102, 1, False),
        "3": (103, 0, True),
        "4": (104, 0, False),
    }
    # reconcile-sources reads the raw table as the poller does: the store matches it.
    spec = next(t for t in poller.tables if t.topic == ue_topic)
    with moodle_db.connect() as src, sqlite_engine.connect() as conn:
        drift = reconcile_table(src, conn, settings, spec)
    assert (drift.source_rows, drift.total, drift.unmappable) == (3, 0, 0)


def test_the_commands_as_real_processes(
    mariadb_url: str,
    sqlite_engine: Engine,
    kafka_broker: EmbeddedBroker,
    topic_prefix: str,
    tmp_path: Any,
) -> None:
    import os
    import subprocess
    import sys

    import yaml

    from monitor.kafka.mapping_defaults import DEFAULT_TOPICS

    moodle = create_engine(mariadb_url)
    metadata = MetaData()
    tables = moodle_tables(metadata=metadata)
    metadata.create_all(moodle)
    with moodle.begin() as conn:
        conn.execute(
            insert(tables["user_enrolments"]),
            [{"id": i, "enrolid": 70, "userid": 100 + i} for i in (1, 2, 3)],
        )
    moodle.dispose()
    topic = f"{topic_prefix}moodle.moodle.mdl_user_enrolments"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": [kafka_broker.bootstrap_servers]},
                "store": {"url": sqlite_engine.url.render_as_string(hide_password=False)},
                "sources": {"topics": {topic: DEFAULT_TOPICS["moodle.moodle.mdl_user_enrolments"]}},
                "source": {"urls": {"moodle": mariadb_url}},
            }
        )
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "from monitor.cli import main; main()",
                *args,
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"COLUMNS": "200"},
        )

    polled = run("source", "moodle", "--once")
    assert polled.returncode == 0, polled.stderr
    assert f"{topic}: 3 rows; r 3" in polled.stdout
    assert ops(read_topic(kafka_broker.bootstrap_servers, topic, 3)) == ["r", "r", "r"]

    # Nothing ingested these events: the store lacks the three rows, and says so (exit 1).
    checked = run("reconcile-sources")
    assert checked.returncode == 1, checked.stderr
    assert f"{topic}: 3 source rows; missing 3, extra 0, different 0" in checked.stdout
