"""The ingest loop against the real broker and the real state stores (SQLite and MariaDB)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import RebalanceInProgressError
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, create_engine, func, select, text

from monitor.config import Settings
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.ingest import consumer as consumer_module
from monitor.kafka.ingest.commit import commit_offsets
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.metrics import Metrics
from monitor.store.apply import AppliedBatch
from monitor.store.db import make_engine, upgrade
from monitor.store.entities import KEY_SEPARATOR
from monitor.store.schema import dirty_elp, fact_tables, ingest_progress
from tests.fixtures.broker import Produce, SettingsFactory, debezium_event, topic_of
from tests.fixtures.database import MARIADB_SERVER_URL

pytestmark = pytest.mark.integration

T0 = 1_790_000_000_000  # a source time, epoch ms
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def ip_row(cod_etu: str, cod_elp: str = "INF1101", group: str = "G1") -> dict[str, Any]:
    return {
        "COD_ETU": cod_etu,
        "COD_ELP": cod_elp,
        "IDGROUPE": group,
        "DISTANT": "N",
        "ANNEE": 2026,
    }


ELP_ROW = {
    "COD_ELP": "INF1101",
    "LIB_ELP": "Algorithmique",
    "COD_CMP": "SCI",
    "A_DISTANCE": "N",
    "ETA_ELP": "O",
    "PERIODE": "S1",
}


def make_loop(
    settings: Settings,
    engine: Engine,
    registry: CollectorRegistry | None = None,
    on_applied: Callable[[AppliedBatch], None] | None = None,
) -> IngestLoop:
    return IngestLoop(
        settings,
        engine,
        Metrics(registry or CollectorRegistry()),
        on_applied=on_applied,
        clock=lambda: NOW,
    )


def consume_until(loop: IngestLoop, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not consumed within {timeout} s")
        loop.run_once()


def events_recorded(engine: Engine, topic: str | None = None) -> int:
    query = select(func.coalesce(func.sum(ingest_progress.c.events), 0))
    if topic is not None:
        query = query.where(ingest_progress.c.topic == topic)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def fact_rows(engine: Engine, entity: str) -> dict[str, dict[str, Any]]:
    table = fact_tables[entity]  # type: ignore[index]
    with engine.connect() as conn:
        return {
            row.key: {k: v for k, v in row._mapping.items() if k != "ingested_at"}
            for row in conn.execute(select(table))
        }


def consumed(registry: CollectorRegistry, topic: str) -> float:
    return registry.get_sample_value("ecampus_monitor_events_consumed_total", {"topic": topic}) or 0


def ip_key(cod_etu: str, cod_elp: str = "INF1101") -> str:
    return f"{cod_etu}{KEY_SEPARATOR}{cod_elp}"


def test_debezium_events_reach_the_store_and_a_replay_gives_the_same_state(
    store_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    produce: Produce,
) -> None:
    settings = kafka_settings(entities=["ip", "elp"])
    ip_topic, elp_topic = topic_of(settings, "ip"), topic_of(settings, "elp")
    runs_topic = settings.sources.runs_topic
    registry = CollectorRegistry()
    applied: list[AppliedBatch] = []
    loop = make_loop(settings, store_engine, registry, on_applied=applied.append)
    with loop:
        # The loop created its topics (and their dead-letter topics) before subscribing.
        admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
        partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
        admin.close()
        assert partitions[ip_topic] == 6
        assert partitions[f"{ip_topic}.dlq"] == 6

        produce(ip_topic, debezium_event(ip_row("21900001"), ts_ms=T0), key="21900001")
        produce(
            ip_topic, debezium_event(ip_row("21900002"), ts_ms=T0, wrapped=False), key="21900002"
        )
        produce(
            ip_topic,
            debezium_event(ip_row("21900003", "INF1102", "G3"), op="r", ts_ms=T0 - 500),
            key="21900003",
        )
        produce(
            ip_topic,
            debezium_event(ip_row("21900001", group="G2"), op="u", ts_ms=T0 + 2000, wrapped=False),
            key="21900001",
        )
        produce(
            ip_topic, debezium_event(ip_row("21900002"), op="d", ts_ms=T0 + 3000), key="21900002"
        )
        produce(ip_topic, None, key="21900002")  # Debezium's tombstone after the delete
        produce(
            elp_topic, debezium_event(ELP_ROW, ts_ms=T0, table="T_ADE_ACTIVITES"), key="INF1101"
        )
        produce(
            runs_topic,
            {
                "run_id": "2026-11-30",
                "started_at": "2026-11-30T02:00:00+01:00",
                "finished_at": "2026-11-30T03:00:00+01:00",
                "status": "success",
            },
        )

        consume_until(loop, lambda: events_recorded(store_engine) == 8)

        ips = fact_rows(store_engine, "ip")
        assert ips[ip_key("21900001")]["group_id"] == "G2"
        assert ips[ip_key("21900001")]["tombstone"] is False
        assert ips[ip_key("21900002")]["tombstone"] is True
        assert ips[ip_key("21900003", "INF1102")]["group_id"] == "G3"
        assert fact_rows(store_engine, "elp")["INF1101"]["label"] == "Algorithmique"
        assert list(fact_rows(store_engine, "sync_run")) == ["2026-11-30"]
        with store_engine.connect() as conn:
            dirty = set(conn.execute(select(dirty_elp.c.cod_elp)).scalars())
            progress = conn.execute(
                select(
                    func.sum(ingest_progress.c.events),
                    func.max(ingest_progress.c.last_source_ts),
                    func.sum(ingest_progress.c.dead_lettered),
                ).where(ingest_progress.c.topic == ip_topic)
            ).one()
        assert dirty == {"INF1101", "INF1102"}
        assert tuple(progress) == (6, T0 + 3000, 0)
        assert consumed(registry, ip_topic) == 6  # the tombstone is counted, not dead-lettered
        assert registry.get_sample_value(
            "ecampus_monitor_newest_fact_timestamp_seconds", {"topic": ip_topic}
        ) == pytest.approx((T0 + 3000) / 1000)
        assert sum(batch.written for batch in applied) >= 5  # one per key and batch

        lags = loop.lag.report(loop.consumer)
        assert lags and set(lags.values()) == {0}
        assert (
            registry.get_sample_value(
                "ecampus_monitor_consumer_lag_messages", {"topic": ip_topic, "partition": "0"}
            )
            == 0
        )

        # An older event arriving after a newer one does not regress the row.
        produce(
            ip_topic,
            debezium_event(ip_row("21900001", group="G0"), op="u", ts_ms=T0 + 1000),
            key="21900001",
        )
        consume_until(loop, lambda: events_recorded(store_engine) == 9)
        assert fact_rows(store_engine, "ip")[ip_key("21900001")]["group_id"] == "G2"

    before = {entity: fact_rows(store_engine, entity) for entity in ("ip", "elp", "sync_run")}
    replay_registry = CollectorRegistry()
    with make_loop(kafka_settings(entities=["ip", "elp"]), store_engine, replay_registry) as replay:
        consume_until(replay, lambda: consumed(replay_registry, ip_topic) == 7)
        consume_until(replay, lambda: consumed(replay_registry, runs_topic) == 1)
    after = {entity: fact_rows(store_engine, entity) for entity in ("ip", "elp", "sync_run")}
    assert after == before
    assert events_recorded(store_engine) == 9  # progress counts each offset once


def test_offsets_are_committed_only_after_the_store_commit(
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    produce: Produce,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = f"test-{uuid.uuid4().hex[:8]}"
    settings = kafka_settings(entities=["ip"], group_id=group)
    ip_topic = topic_of(settings, "ip")

    def crash(*args: Any, **kwargs: Any) -> AppliedBatch:
        raise RuntimeError("the process dies between poll and the store commit")

    with monkeypatch.context() as patched, make_loop(settings, sqlite_engine) as crashing:
        patched.setattr(consumer_module, "persist_batch", crash)
        for n in range(3):
            produce(ip_topic, debezium_event(ip_row(f"2190000{n}"), ts_ms=T0), key=f"2190000{n}")
        with pytest.raises(RuntimeError, match="dies"):
            consume_until(crashing, lambda: False)
    assert fact_rows(sqlite_engine, "ip") == {}

    registry = CollectorRegistry()
    with make_loop(settings, sqlite_engine, registry) as restarted:
        consume_until(restarted, lambda: len(fact_rows(sqlite_engine, "ip")) == 3)
    assert consumed(registry, ip_topic) == 3  # the crashed batch was delivered again

    registry = CollectorRegistry()
    with make_loop(settings, sqlite_engine, registry) as again:
        consume_until(again, lambda: bool(again.consumer.assignment()))
        for _ in range(5):
            again.run_once()
        assert consumed(registry, ip_topic) == 0  # everything applied was committed
        produce(ip_topic, debezium_event(ip_row("21900009"), ts_ms=T0), key="21900009")
        consume_until(again, lambda: consumed(registry, ip_topic) == 1)
    assert events_recorded(sqlite_engine, ip_topic) == 4


def run_in_thread(loop: IngestLoop) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.1)


def outages(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("ecampus_monitor_store_unavailable_total") or 0


def test_a_missing_table_is_retried_until_it_is_back(
    sqlite_engine: Engine, kafka_settings: SettingsFactory, produce: Produce
) -> None:
    settings = kafka_settings(entities=["ip"])
    ip_topic = topic_of(settings, "ip")
    fact_tables["ip"].drop(sqlite_engine)
    for n in range(2):
        produce(ip_topic, debezium_event(ip_row(f"2190000{n}"), ts_ms=T0), key=f"2190000{n}")
    registry = CollectorRegistry()
    stop, thread = run_in_thread(make_loop(settings, sqlite_engine, registry))

    wait_for(lambda: outages(registry) >= 2)
    fact_tables["ip"].create(sqlite_engine)
    wait_for(lambda: len(fact_rows(sqlite_engine, "ip")) == 2)
    stop.set()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert events_recorded(sqlite_engine, ip_topic) == 2


@pytest.fixture
def mariadb_not_yet_created() -> Iterator[str]:
    """The URL of a MariaDB database that does not exist yet; dropped afterwards."""
    server = create_engine(MARIADB_SERVER_URL + "/test")
    try:
        with server.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any connection failure means "not reachable"
        server.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"MariaDB must be reachable in CI: {error}")
        pytest.skip(f"MariaDB not reachable: {error}")
    name = f"ecm_late_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{MARIADB_SERVER_URL}/{name}?charset=utf8mb4"
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


@pytest.mark.mariadb
def test_an_unreachable_mariadb_pauses_ingest_until_it_is_there(
    mariadb_not_yet_created: str, kafka_settings: SettingsFactory, produce: Produce
) -> None:
    settings = kafka_settings(mariadb_not_yet_created, entities=["ip"])
    ip_topic = topic_of(settings, "ip")
    engine = make_engine(mariadb_not_yet_created)
    for n in range(3):
        produce(ip_topic, debezium_event(ip_row(f"2190000{n}"), ts_ms=T0), key=f"2190000{n}")
    registry = CollectorRegistry()
    stop, thread = run_in_thread(make_loop(settings, engine, registry))
    try:
        wait_for(lambda: outages(registry) >= 2)
        name = mariadb_not_yet_created.rsplit("/", 1)[1].split("?")[0]
        server = create_engine(MARIADB_SERVER_URL + "/test")
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
        server.dispose()
        upgrade(engine)
        # Counted once the batch is committed and its offsets too: the end of the batch.
        wait_for(lambda: consumed(registry, ip_topic) == 3)
        assert len(fact_rows(engine, "ip")) == 3
    finally:
        stop.set()
        thread.join(timeout=10)
        engine.dispose()
    assert not thread.is_alive()


def test_stopping_during_an_outage_leaves_the_batch_for_the_next_start(
    sqlite_engine: Engine, kafka_settings: SettingsFactory, produce: Produce
) -> None:
    group = f"test-{uuid.uuid4().hex[:8]}"
    settings = kafka_settings(entities=["ip"], group_id=group)
    ip_topic = topic_of(settings, "ip")
    fact_tables["ip"].drop(sqlite_engine)
    produce(ip_topic, debezium_event(ip_row("21900001"), ts_ms=T0), key="21900001")
    registry = CollectorRegistry()
    stop, thread = run_in_thread(make_loop(settings, sqlite_engine, registry))
    wait_for(lambda: outages(registry) >= 1)

    stopping = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - stopping < 3

    fact_tables["ip"].create(sqlite_engine)
    with make_loop(settings, sqlite_engine) as restarted:
        consume_until(restarted, lambda: len(fact_rows(sqlite_engine, "ip")) == 1)


class _RebalancingConsumer:
    """A consumer whose group rebalances during the first commit and takes partition 1 away."""

    def __init__(self) -> None:
        self.assigned = {TopicPartition("ip", 0), TopicPartition("ip", 1)}
        self.commits: list[dict[TopicPartition, int]] = []
        self.polls = 0
        self.positions: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if not self.commits and self.polls == 0:
            self.commits.append({})
            raise RebalanceInProgressError()
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Any]]:
        self.polls += 1
        self.assigned = {TopicPartition("ip", 0)}  # the rebalance completes in poll
        return {}

    def pause(self, *partitions: TopicPartition) -> None: ...
    def resume(self, *partitions: TopicPartition) -> None: ...

    def position(self, tp: TopicPartition) -> int:
        return self.positions.get(tp, 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset


def test_a_commit_during_a_rebalance_is_retried_for_the_partitions_still_ours() -> None:
    consumer = _RebalancingConsumer()

    complete = commit_offsets(
        consumer,
        {TopicPartition("ip", 0): 10, TopicPartition("ip", 1): 7},
        None,
        retry_max_seconds=1.0,
    )

    assert consumer.polls >= 1
    assert consumer.commits[-1] == {TopicPartition("ip", 0): 10}
    assert not complete  # partition 1's new owner consumes it again from its last commit
    assert consumer.positions[TopicPartition("ip", 0)] == 10
