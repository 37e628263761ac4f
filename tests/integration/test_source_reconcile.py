"""REFER read without Debezium (MariaDB standing in for Oracle), and the store checked against it.

The poller's events and Debezium's own events for the same rows give the
same store; ``reconcile_sources`` finds nothing then, and after the source
changed behind the store's back (a missed event) it reports the drift as a
metric and a CEMU alert, without touching the store, until the store follows.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select

from alerts.repository import AlertFilter, list_alerts
from monitor.config import SourceSettings
from monitor.kafka.broker import EmbeddedBroker, ensure_topics
from monitor.kafka.ingest.kafka_options import client_options
from monitor.metrics import Metrics
from monitor.sources import reconcile
from monitor.store.db import make_engine, upgrade
from monitor.store.schema import fact_tables
from tests.fixtures.broker import Produce, SettingsFactory, debezium_event, topic_of
from tests.integration.test_source_poller import NOW, ingest_everything, make_poller

pytestmark = [pytest.mark.integration, pytest.mark.mariadb]

ELPS = [
    {
        "COD_ELP": "INF1101",
        "LIB_ELP": "Algorithmique",
        "COD_CMP": "SCI",
        "A_DISTANCE": "N",
        "ETA_ELP": "O",
        "COD_ELP_PORTEUR": None,
        "TEM_CHARGES_ENS": "O",
        "PERIODE": "S1",
        "ANNEE": 2026,
    },
    {
        "COD_ELP": "INF1102",
        "LIB_ELP": "Réseaux",
        "COD_CMP": "SCI",
        "A_DISTANCE": "O",
        "ETA_ELP": "S",
        "COD_ELP_PORTEUR": None,
        "TEM_CHARGES_ENS": "N",
        "PERIODE": "AN",
        "ANNEE": 2026,
    },
]
IPS = [
    {"COD_ETU": etu, "COD_ELP": elp, "IDGROUPE": "G1", "DISTANT": 0, "ANNEE": 2026}
    for etu in ("21900001", "21900002", "21900010")
    for elp in ("INF1101", "INF1102")
]


def refer_tables(metadata: MetaData) -> dict[str, Table]:
    elp = Table(
        "T_ADE_ACTIVITES",
        metadata,
        Column("COD_ELP", String(20), primary_key=True),
        Column("LIB_ELP", String(120)),
        Column("COD_CMP", String(10)),
        Column("A_DISTANCE", String(1)),
        Column("ETA_ELP", String(1)),
        Column("COD_ELP_PORTEUR", String(20)),
        Column("TEM_CHARGES_ENS", String(1)),
        Column("PERIODE", String(2)),
        Column("ANNEE", Integer),
    )
    ip = Table(
        "T_ADE_ACTIVITES_ETUDIANTS",
        metadata,
        Column("COD_ETU", String(20), primary_key=True),
        Column("COD_ELP", String(20), primary_key=True),
        Column("IDGROUPE", String(40)),
        Column("DISTANT", Integer),
        Column("ANNEE", Integer),
    )
    return {t.name: t for t in (elp, ip)}


def comparable(engine: Engine, entity: str) -> dict[str, dict[str, Any]]:
    skip = {"ingested_at", "source_ts", "source_seq"}
    with engine.connect() as conn:
        return {
            r.key: {k: v for k, v in r._mapping.items() if k not in skip}
            for r in conn.execute(select(fact_tables[entity]))  # type: ignore[index]
        }


def test_poller_and_debezium_give_the_same_store_and_reconciliation_reports_drift(
    mariadb_url: str,
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    produce: Produce,
    tmp_path: Path,
) -> None:
    refer = create_engine(mariadb_url)
    metadata = MetaData()
    tables = refer_tables(metadata)
    metadata.create_all(refer)
    with refer.begin() as conn:
        conn.execute(tables["T_ADE_ACTIVITES"].insert(), ELPS)
        conn.execute(tables["T_ADE_ACTIVITES_ETUDIANTS"].insert(), IPS)
    settings = kafka_settings(entities=["elp", "ip"])
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
    try:
        poller = make_poller(settings, "refer", refer, sqlite_engine, producer)
        assert [sum(r.ops.values()) for r in poller.run_pass()] == [2, 6]
    finally:
        producer.close()
    ingest_everything(settings, sqlite_engine, topic_of(settings, "ip"), 6)

    # The same rows through Debezium's own events, on other topics, into another store.
    debezium_topics = {
        topic.replace(".refer.", ".dbz.refer."): mapping
        for topic, mapping in settings.sources.topics.items()
    }
    dbz = settings.model_copy(
        update={
            "sources": SourceSettings(
                topics=debezium_topics, runs_topic=settings.sources.runs_topic + ".dbz"
            )
        }
    )
    ensure_topics(client_options(dbz.kafka), list(debezium_topics))
    for row in ELPS:
        produce(topic_of(dbz, "elp"), debezium_event(row, op="r", table="T_ADE_ACTIVITES"))
    for row in IPS:
        produce(topic_of(dbz, "ip"), debezium_event(row, op="r"))
    other = make_engine(f"sqlite:///{tmp_path / 'debezium.sqlite'}")
    upgrade(other)
    ingest_everything(dbz, other, topic_of(dbz, "ip"), 6)
    for entity in ("elp", "ip"):
        assert comparable(sqlite_engine, entity) == comparable(other, entity)
        assert comparable(sqlite_engine, entity)

    # The store matches the source: no drift, no alert.
    urls = {"refer": mariadb_url}
    drifts = reconcile.reconcile_sources(settings, sqlite_engine, urls)
    assert [(d.source_rows, d.total) for d in drifts] == [(2, 0), (6, 0)]

    # Changes the store never heard of (a connector restarted from a stale offset).
    elp, ip = tables["T_ADE_ACTIVITES"], tables["T_ADE_ACTIVITES_ETUDIANTS"]
    with refer.begin() as conn:
        conn.execute(elp.update().where(elp.c.COD_ELP == "INF1102").values(LIB_ELP="Réseaux 2"))
        conn.execute(ip.delete().where(ip.c.COD_ETU == "21900010"))
        conn.execute(ip.insert().values(COD_ETU="21900099", COD_ELP="INF1101", DISTANT=1))
    before = comparable(sqlite_engine, "ip")
    drifts = reconcile.reconcile_sources(settings, sqlite_engine, urls)
    by_topic = {d.topic.split(".")[-1]: d for d in drifts}
    assert (by_topic["T_ADE_ACTIVITES"].different, by_topic["T_ADE_ACTIVITES"].total) == (1, 1)
    ips = by_topic["T_ADE_ACTIVITES_ETUDIANTS"]
    assert (ips.missing, ips.extra, ips.different) == (1, 2, 0)
    assert ips.examples["missing"] == ["21900099\x1fINF1101"]
    assert comparable(sqlite_engine, "ip") == before  # the store is not changed

    registry = CollectorRegistry()
    notifier = reconcile.notifier_for(settings)
    reconcile.record(sqlite_engine, drifts, now=NOW, metrics=Metrics(registry), notifier=notifier)
    assert (
        registry.get_sample_value(
            "ecampus_monitor_source_drift_rows", {"topic": ips.topic, "kind": "extra"}
        )
        == 2
    )
    with sqlite_engine.connect() as conn:
        alerts = list_alerts(conn, AlertFilter(detector=reconcile.DETECTOR))
    assert sorted(a.subject for a in alerts) == sorted(d.topic for d in drifts)
    assert {a.status for a in alerts} == {"open"}
    assert {a.audience for a in alerts} == {"cemu"}

    # The poller catches the store up; the next reconciliation resolves the alerts.
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
    try:
        make_poller(settings, "refer", refer, sqlite_engine, producer).run_pass()
    finally:
        producer.close()
    ingest_everything(settings, sqlite_engine, topic_of(settings, "ip"), 9)
    drifts = reconcile.reconcile_sources(settings, sqlite_engine, urls)
    assert [d.total for d in drifts] == [0, 0]
    reconcile.record(sqlite_engine, drifts, now=NOW, metrics=None, notifier=notifier)
    with sqlite_engine.connect() as conn:
        alerts = list_alerts(conn, AlertFilter(detector=reconcile.DETECTOR))
    assert {a.status for a in alerts} == {"resolved"}
    refer.dispose()


def test_the_weekly_pass_runs_once_per_week_on_its_day(
    mariadb_url: str, sqlite_engine: Engine, kafka_settings: SettingsFactory
) -> None:
    from datetime import datetime, time

    from pydantic import SecretStr

    from monitor.sources.schedule import WeeklyReconciliation
    from monitor.sources.settings import PollerSettings

    refer = create_engine(mariadb_url)
    metadata = MetaData()
    refer_tables(metadata)
    metadata.create_all(refer)
    refer.dispose()
    settings = kafka_settings(entities=["elp", "ip"]).model_copy(
        update={
            "source": PollerSettings(
                urls={"refer": SecretStr(mariadb_url)},
                reconcile_weekday=6,
                reconcile_time=time(5, 0),
            )
        }
    )
    registry = CollectorRegistry()
    moments = iter(
        [
            datetime(2026, 12, 5, 12, 0, tzinfo=UTC),  # Saturday: not the day
            datetime(2026, 12, 6, 3, 0, tzinfo=UTC),  # Sunday 04:00 in Paris: too early
            datetime(2026, 12, 6, 5, 0, tzinfo=UTC),  # Sunday 06:00: due
            datetime(2026, 12, 6, 9, 0, tzinfo=UTC),  # done this week
            datetime(2026, 12, 13, 5, 0, tzinfo=UTC),  # next Sunday: due again
        ]
    )
    weekly = WeeklyReconciliation(settings, sqlite_engine, Metrics(registry), lambda: next(moments))
    results = [weekly.run_if_due() for _ in range(5)]
    assert [r is not None for r in results] == [False, False, True, False, True]
    assert [d.total for d in results[2] or []] == [0, 0]
    assert (
        registry.get_sample_value(
            "ecampus_monitor_source_drift_rows",
            {"topic": topic_of(settings, "ip"), "kind": "missing"},
        )
        == 0
    )
