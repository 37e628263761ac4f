"""The daemon's alert from REFER read by the poller, not by Debezium.

REFER's tables of the demo scenario live in MariaDB (Oracle's stand-in); Moodle's
side and the run reports come as Debezium events. An ELP deleted from
``T_ADE_ACTIVITES`` while its Moodle course exists reaches the daemon as the
poller's ``d`` event, and the daemon predicts ``course_archived`` for tonight.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, create_engine

from alerts.repository import AlertFilter, list_alerts
from monitor.clock import utc_now
from monitor.config import HttpSettings, Settings, SmtpSettings
from monitor.daemon import Daemon
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import publish
from monitor.simulation.demo.scenario import REMOVED, _snapshot
from monitor.simulation.mailsink import MailSink
from monitor.sources.reader import table_spec
from tests.fixtures.broker import SettingsFactory
from tests.integration.test_end_to_end import _wait_for
from tests.integration.test_source_poller import make_poller

pytestmark = [pytest.mark.integration, pytest.mark.mariadb]


def _ends(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def _refer_tables(settings: Settings, rows: dict[str, list[dict[str, Any]]]) -> list[Table]:
    """Every configured REFER table, with the scenario's rows: text columns, integer years."""
    metadata = MetaData()
    tables = []
    for topic, mapping in settings.sources.topics.items():
        if ".refer." not in topic:
            continue
        spec = table_spec(topic, mapping, schema=None)
        names = dict.fromkeys([*spec.columns, *(n for row in rows.get(topic, []) for n in row)])
        tables.append(
            Table(
                spec.name,
                metadata,
                *(
                    Column(
                        name,
                        BigInteger
                        if name in ("ANNEE", "ID_IA", "ID_IA_REMPLACEE")
                        else String(100),
                        primary_key=name in spec.key_columns,
                    )
                    for name in names
                ),
            )
        )
    return tables


def _course_archived(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list_alerts(conn, AlertFilter(detector="course_archived"))


def test_an_elp_deleted_in_refer_is_predicted_archived_through_the_poller(
    mariadb_url: str,
    sqlite_engine: Engine,
    kafka_settings: SettingsFactory,
    kafka_broker: EmbeddedBroker,
    smtp_sink: MailSink,
) -> None:
    settings = kafka_settings()
    settings = settings.model_copy(
        update={
            "smtp": SmtpSettings(host="127.0.0.1", port=smtp_sink.port),
            "http": HttpSettings(enabled=False),
        }
    )
    prefix = next(iter(settings.sources.topics)).split("refer.")[0]
    snapshot = [replace(m, topic=prefix + m.topic) for m in _snapshot(utc_now())]
    refer_rows: dict[str, list[dict[str, Any]]] = {}
    for message in snapshot:
        if message.topic.startswith(prefix + "refer.") and message.value is not None:
            refer_rows.setdefault(message.topic, []).append(message.value["after"])
    refer = create_engine(mariadb_url)
    with refer.begin() as conn:
        for table in _refer_tables(settings, refer_rows):
            table.create(conn)
            if rows := refer_rows.get(prefix + "refer.REFER." + table.name):
                conn.execute(table.insert(), rows)

    daemon = Daemon(settings, registry=CollectorRegistry(), engine=sqlite_engine)
    daemon.start()
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
    try:
        # Moodle and ADE through Debezium; REFER through the poller (first read: r).
        list(publish(producer, [m for m in snapshot if m.topic not in refer_rows]))
        poller = make_poller(settings, "refer", refer, sqlite_engine, producer, clock=utc_now)
        first = {r.topic: r.ops["r"] for r in poller.run_pass() if r.ops["r"]}
        assert first == {topic: len(rows) for topic, rows in refer_rows.items()}
        everything = _ends(kafka_broker.bootstrap_servers, list(settings.sources.topics))
        _wait_for(lambda: daemon.progress(everything).idle, "the snapshot processed")
        daemon.settle()
        assert _course_archived(sqlite_engine) == []

        # The ELP vanishes from REFER: the poller's delete, and the daemon's prediction.
        elp = next(t for t in _refer_tables(settings, refer_rows) if t.name == "T_ADE_ACTIVITES")
        with refer.begin() as conn:
            conn.execute(elp.delete().where(elp.c.COD_ELP == REMOVED))
        reports = {r.topic.split(".")[-1]: r.ops for r in poller.run_pass()}
        assert reports["T_ADE_ACTIVITES"] == {"r": 0, "c": 0, "u": 0, "d": 1}
        _wait_for(lambda: len(_course_archived(sqlite_engine)) == 1, "the prediction")
        (alert,) = _course_archived(sqlite_engine)
        assert (alert.cod_elp, alert.cause, alert.phase) == (
            REMOVED,
            "removed_from_offer",
            "predicted",
        )
    finally:
        producer.close()
        daemon.stop()
        refer.dispose()
