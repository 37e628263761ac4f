"""Issue 9's poison messages through the real broker and ingest loop: dead-lettered, then the next applies."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.metrics import Metrics
from monitor.store.entities import KEY_SEPARATOR
from monitor.store.schema import fact_tables, ingest_progress
from tests.fixtures.broker import Produce, SettingsFactory, debezium_event, topic_of
from tests.integration.test_dead_letter import read_all

pytestmark = pytest.mark.integration

T0 = 1_790_000_000_000
STUDENT = "21955555"
ROW = {"COD_ETU": STUDENT, "COD_ELP": "INF1101", "IDGROUPE": "G1", "DISTANT": "N", "ANNEE": 2026}
ELP_ROW = {"COD_ELP": "INF1101", "LIB_ELP": "Algo", "COD_CMP": "SCI", "ETA_ELP": "O"}


def _ts(ts: str) -> bytes:
    text = json.dumps(debezium_event(ROW, ts_ms=0))
    return text.replace('"ts_ms": 0', f'"ts_ms": {ts}').encode()


def consume_until_read(loop: IngestLoop, engine: Engine, events: int) -> None:
    """Run the loop until the store's progress counts ``events`` messages read."""

    def read() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.sum(ingest_progress.c.events))).scalar() or 0)

    for _ in range(300):
        if read() == events:
            return
        loop.run_once()
    assert read() == events


POISON_IP: dict[str, bytes | dict[str, Any]] = {
    "integer 2^63": debezium_event(ROW | {"ANNEE": 2**63}),
    "ts_ms 1e20": _ts("1e20"),
    "ts_ms 1e300": _ts("1e300"),
    "list in the key": debezium_event(ROW | {"COD_ETU": [None]}),
    "object as a group": debezium_event(ROW | {"IDGROUPE": {"id": "G1"}}),
    "boolean as an ELP": debezium_event(ROW | {"COD_ELP": True}),
    "float as a group": debezium_event(ROW | {"IDGROUPE": 1.5}),
    "900 KB not JSON": b"{" + b"x" * 900_000,
}


def test_poison_messages_are_dead_lettered_and_the_valid_ones_after_them_applied(
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    produce: Produce,
) -> None:
    group = f"test-{uuid.uuid4().hex[:8]}"
    settings = kafka_settings(entities=["ip", "elp"], group_id=group)
    ip_topic, elp_topic = topic_of(settings, "ip"), topic_of(settings, "elp")
    runs_topic = settings.sources.runs_topic
    registry = CollectorRegistry()
    loop = IngestLoop(
        settings, sqlite_engine, Metrics(registry), clock=lambda: datetime(2026, 11, 30, tzinfo=UTC)
    )
    with loop:
        for value in POISON_IP.values():
            produce(ip_topic, value, key=STUDENT)
        produce(ip_topic, debezium_event(ROW, ts_ms=T0), key=STUDENT)
        label = ELP_ROW | {"LIB_ELP": "x" * 600_000}
        produce(elp_topic, debezium_event(label, table="T_ADE_ACTIVITES"), key="INF1101")
        produce(elp_topic, debezium_event(ELP_ROW, table="T_ADE_ACTIVITES"), key="INF1101")
        naive_start = {
            "run_id": "r1",
            "started_at": "2026-11-30T02:00:00",
            "finished_at": "2026-11-30T03:00:00+01:00",
            "status": "success",
        }
        produce(runs_topic, naive_start, key="r1")
        produce(runs_topic, naive_start | {"started_at": "2026-11-30T02:00:00+01:00"}, key="r1")

        consume_until_read(loop, sqlite_engine, len(POISON_IP) + 5)

    with sqlite_engine.connect() as conn:
        ip_keys = set(conn.execute(select(fact_tables["ip"].c.key)).scalars())
        elp = conn.execute(select(fact_tables["elp"].c.label)).scalar_one()
        runs = set(conn.execute(select(fact_tables["sync_run"].c.run_id)).scalars())
    assert ip_keys == {f"{STUDENT}{KEY_SEPARATOR}INF1101"}
    assert elp == "Algo"
    assert runs == {"r1"}

    dead = [json.loads(r.value) for r in read_all(kafka_broker, f"{ip_topic}.dlq", 8)]
    assert len(dead) == len(POISON_IP)
    assert all(len(r.value) < 1_000_000 for r in read_all(kafka_broker, f"{ip_topic}.dlq", 8))
    truncated = [d for d in dead if d["original_value_truncated"]]
    assert [d["original_value_size"] for d in truncated] == [900_001]
    assert len(read_all(kafka_broker, f"{elp_topic}.dlq", 1)) == 1
    assert len(read_all(kafka_broker, f"{runs_topic}.dlq", 1)) == 1

    # Restarted, the worker finds everything committed: no poison comes back to crash it.
    again_registry = CollectorRegistry()
    with IngestLoop(settings, sqlite_engine, Metrics(again_registry)) as again:
        for _ in range(300):
            if again.consumer.assignment():
                break
            again.run_once()
        assert again.consumer.assignment()
        for _ in range(5):
            again.run_once()
    consumed = again_registry.get_sample_value(
        "ecampus_monitor_events_consumed_total", {"topic": ip_topic}
    )
    assert consumed is None


@pytest.mark.mariadb
def test_a_row_the_store_refuses_is_dead_lettered_and_the_batch_goes_on(
    mariadb_url: str,
    mariadb_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    produce: Produce,
) -> None:
    """MariaDB takes groups "E1" and "é1" for one key: the later is refused, the others applied."""
    settings = kafka_settings(mariadb_url, entities=["group"])
    topic = topic_of(settings, "group")
    for group_id in ("E1", "G2", "é1", "G3"):
        row = {"COD_GPE": group_id, "LIB_GPE": "TD", "COD_COL": None}
        produce(topic, debezium_event(row, table="T_ADE_GROUPES"), key="groups")
    registry = CollectorRegistry()
    with IngestLoop(settings, mariadb_engine, Metrics(registry)) as loop:
        consume_until_read(loop, mariadb_engine, 4)

    with mariadb_engine.connect() as conn:
        stored = set(conn.execute(select(fact_tables["group"].c.key)).scalars())
        dead_lettered = conn.execute(select(func.sum(ingest_progress.c.dead_lettered))).scalar()
    assert stored == {"E1", "G2", "G3"}
    assert dead_lettered == 1
    (record,) = [json.loads(r.value) for r in read_all(kafka_broker, f"{topic}.dlq", 1)]
    assert record["error_kind"] == "rejected_by_store"
    assert (
        json.loads(base64.b64decode(record["original_value_b64"]))["payload"]["after"]["COD_GPE"]
        == "é1"
    )
    assert (
        registry.get_sample_value(
            "ecampus_monitor_events_dead_lettered_total",
            {"topic": topic, "reason": "rejected_by_store"},
        )
        == 1
    )
