"""A run report line that contradicts the facts reaches CEMU through the real broker and daemon.

The demo's university is published, then a run report whose ``Insc. BDD``
line says a student was refused where REFER enrols them down to the group:
the daemon's after-run pass raises « Le modèle et lmsjonction divergent » to
CEMU, with the report's words and the model's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from alerts.repository import AlertFilter, AlertRecord, list_alerts
from monitor.config import (
    HttpSettings,
    KafkaSettings,
    RoutingSettings,
    SmtpSettings,
    SourceSettings,
    StoreSettings,
    load_settings,
)
from monitor.daemon import Daemon
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.contracts import RunMessageModel, SyncRunReport
from monitor.kafka.events import OutgoingMessage, publish, run_report
from monitor.simulation.demo.scenario import RUNS_TOPIC, build_scenario
from monitor.simulation.mailsink import MailSink

pytestmark = pytest.mark.integration

STUDENT, COURSE = "20500000", "DRT-L1-CON"  # the demo's first student of Droit constitutionnel


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_a_report_line_contradicting_the_facts_is_a_cemu_finding(
    kafka_broker: EmbeddedBroker, store_engine: Engine, tmp_path: Path
) -> None:
    with MailSink(tmp_path / "mail", port=0) as sink:
        _run_divergent_night(kafka_broker, store_engine, tmp_path, sink.port)


def _run_divergent_night(
    kafka_broker: EmbeddedBroker, store_engine: Engine, tmp_path: Path, smtp_port: int
) -> None:
    now = datetime.now(UTC)
    prefix = f"t{uuid.uuid4().hex[:8]}."
    scenario = build_scenario(now)
    routing = tmp_path / "routing.yaml"
    routing.write_text(scenario.routing_yaml, encoding="utf-8")
    topics = {prefix + t: m for t, m in load_settings().sources.topics.items()}
    settings = load_settings(
        kafka=KafkaSettings(
            bootstrap_servers=[kafka_broker.bootstrap_servers],
            group_id=f"g-{uuid.uuid4().hex[:8]}",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            max_poll_interval_ms=10000,
        ),
        sources=SourceSettings(topics=topics, runs_topic=prefix + RUNS_TOPIC),
        store=StoreSettings(url=store_engine.url.render_as_string(hide_password=False)),
        routing=RoutingSettings(file=routing, cemu_address="cemu@univ-test.fr"),
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, retry_initial_seconds=1),
        http=HttpSettings(port=0),
    )
    refused = RunMessageModel(
        level="error",
        code="Insc. BDD",
        text=f"Insc. BDD : {STUDENT} non inscrit au cours {COURSE}",
        cod_elp=COURSE,
        cod_etu=STUDENT,
    )
    night = SyncRunReport(
        run_id="night-divergent",
        started_at=now - timedelta(minutes=30),
        finished_at=now - timedelta(minutes=20),
        status="success",
        messages=[refused],
    )
    messages: list[OutgoingMessage] = [
        *scenario.today,
        run_report(RUNS_TOPIC, night),
    ]
    daemon = Daemon(settings, registry=CollectorRegistry(), engine=store_engine)
    daemon.start()
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
    try:
        ends: dict[TopicPartition, int] = {}
        list(publish(producer, [replace(m, topic=prefix + m.topic) for m in messages], ends))

        def divergent() -> list[AlertRecord]:
            with store_engine.connect() as conn:
                found = list_alerts(conn, AlertFilter(detector="run_report_check"))
            return [a for a in found if a.cause == "model_run_divergence"]

        _wait_for(lambda: daemon.progress(ends).idle and bool(divergent()), "the divergence")
        [alert] = divergent()
        assert alert.audience == "cemu"
        assert alert.cod_elp == COURSE
        [row] = alert.evidence
        assert row.who == STUDENT
        assert row.fact == (
            f"lmsjonction : « Insc. BDD : {STUDENT} non inscrit au cours {COURSE} » ; "
            "modèle : inscrit"
        )
        # A warning for CEMU: in CEMU's next daily digest (not emailed at once).
        assert alert.severity == "warning"
        assert alert.title.startswith("Le modèle et lmsjonction divergent sur DRT-L1-CON")
    finally:
        producer.close()
        daemon.stop()
