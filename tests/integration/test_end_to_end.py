"""The walking skeleton end to end: Debezium events through the real broker to an emailed,
acknowledgeable alert, on SQLite and on MariaDB, with a real SMTP server.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from alerts.repository import AlertFilter, list_alerts
from monitor.config import (
    HttpSettings,
    KafkaSettings,
    RoutingSettings,
    Settings,
    SmtpSettings,
    SourceSettings,
    StoreSettings,
    load_settings,
)
from monitor.daemon import Daemon
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import OutgoingMessage, publish
from monitor.simulation.demo.scenario import Scenario, build_scenario
from monitor.simulation.mailsink import MailSink
from tests.fixtures.broker import rules_off_the_clock

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "test-token-123"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _settings(
    *,
    broker: EmbeddedBroker,
    engine: Engine,
    sink: MailSink,
    prefix: str,
    group: str,
    routing: Path,
) -> Settings:
    defaults = load_settings()
    topics = {f"{prefix}{topic}": mapping for topic, mapping in defaults.sources.topics.items()}
    return load_settings(
        kafka=KafkaSettings(
            bootstrap_servers=[broker.bootstrap_servers],
            group_id=group,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            max_poll_interval_ms=10000,
        ),
        sources=SourceSettings(topics=topics, runs_topic=f"{prefix}lmsjonction.runs"),
        store=StoreSettings(url=_url(engine)),
        smtp=SmtpSettings(host="127.0.0.1", port=sink.port, retry_initial_seconds=1),
        routing=RoutingSettings(file=routing, cemu_address="cemu@univ-test.fr"),
        http=HttpSettings(port=0, api_tokens=[TOKEN], public_url="https://ecm.univ-test.fr"),
        rules=rules_off_the_clock(),
    )


def _prefixed(messages: list[OutgoingMessage], prefix: str) -> list[OutgoingMessage]:
    return [replace(m, topic=prefix + m.topic) for m in messages]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _mails(directory: Path) -> list[Message]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(directory.glob("*.eml"))
    ]


def _body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


@pytest.fixture
def world(
    kafka_broker: EmbeddedBroker, store_engine: Engine, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    scenario = build_scenario(datetime.now(UTC))
    routing = tmp_path / "routing.yaml"
    routing.write_text(scenario.routing_yaml, encoding="utf-8")
    with MailSink(tmp_path / "mail", port=0) as sink:
        yield {
            "prefix": prefix,
            "scenario": scenario,
            "sink": sink,
            "mail_dir": tmp_path / "mail",
            "make_settings": lambda group: _settings(
                broker=kafka_broker,
                engine=store_engine,
                sink=sink,
                prefix=prefix,
                group=group,
                routing=routing,
            ),
        }


def _start(settings: Settings, engine: Engine) -> Daemon:
    daemon = Daemon(settings, registry=CollectorRegistry(), engine=engine)
    daemon.start()
    return daemon


def _after_run_done(daemon: Daemon) -> bool:
    with daemon.engine.connect() as conn:
        found = list_alerts(conn, AlertFilter(detector="course_archived"))
    return len(found) == 3 and all(a.phase == "occurred" for a in found)


def test_scenario_through_the_real_broker_to_email_ack_and_metrics(
    world: dict[str, Any], store_engine: Engine, kafka_broker: EmbeddedBroker
) -> None:
    prefix: str = world["prefix"]
    scenario: Scenario = world["scenario"]
    mail_dir: Path = world["mail_dir"]
    settings = world["make_settings"](f"g-{uuid.uuid4().hex[:8]}")
    daemon = _start(settings, store_engine)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
    try:
        # Today: the ELP edits. Ahead of the night, three courses will be archived tonight.
        ends: dict[TopicPartition, int] = {}
        list(publish(producer, _prefixed(scenario.today, prefix), ends))
        _wait_for(lambda: daemon.progress(ends).idle, "today's events processed")
        with store_engine.connect() as conn:
            predicted = list_alerts(conn, AlertFilter(detector="course_archived"))
        assert sorted(a.cod_elp or "" for a in predicted) == ["2HR5C", "DRT-L1-CIV", "HSS-L2-SOC"]
        assert {a.phase for a in predicted} == {"predicted"}
        assert {a.status for a in predicted} == {"open"}
        by_code = {a.cod_elp: a for a in predicted}
        assert by_code["HSS-L2-SOC"].cause == "removed_from_offer"
        assert by_code["DRT-L1-CIV"].cause == "code_changed"
        assert by_code["2HR5C"].cause == "became_porte"

        # One French email per alert, to the composante's scolarité.
        _wait_for(lambda: len(list(mail_dir.glob("*.eml"))) == 3, "three emails")
        mails = {m["Subject"]: m for m in _mails(mail_dir)}
        removed = next(m for s, m in mails.items() if "HSS-L2-SOC" in s)
        assert removed["To"] == "scolarite.hss@univ-demo.fr"
        assert "Sociologie urbaine" in removed["Subject"]
        body = _body(removed)
        assert "sera archivé cette nuit" in body
        assert "27 étudiants" in body
        assert f"https://ecm.univ-test.fr/alerts/{by_code['HSS-L2-SOC'].id}" in body
        renamed = next(m for s, m in mails.items() if "DRT-L1-CIV" in s)
        assert renamed["To"] == "scolarite.droit@univ-demo.fr"

        # A malformed message is dead-lettered and the daemon goes on.
        elp_topic = f"{prefix}refer.REFER.T_ADE_ACTIVITES"
        bad = producer.send(elp_topic, key=b"bad", value=b"{not json").get(timeout=10)
        ends[TopicPartition(elp_topic, bad.partition)] = max(
            ends.get(TopicPartition(elp_topic, bad.partition), 0), bad.offset + 1
        )
        # Tonight: the run archives the three courses; same alerts, no new email.
        list(publish(producer, _prefixed(scenario.tonight, prefix), ends))
        _wait_for(
            lambda: daemon.progress(ends).idle and _after_run_done(daemon), "the night processed"
        )
        daemon.settle()  # a whole detection and delivery cycle: nothing more may be sent
        assert len(list(mail_dir.glob("*.eml"))) == 3

        dlq = KafkaConsumer(
            elp_topic + ".dlq",
            bootstrap_servers=kafka_broker.bootstrap_servers,
            auto_offset_reset="earliest",
            consumer_timeout_ms=5000,
        )
        dead = [json.loads(record.value) for record in dlq]
        dlq.close()
        assert len(dead) == 1
        assert dead[0]["topic"] == elp_topic
        assert "offset" in dead[0] and "error" in dead[0]

        # Acknowledge over HTTP: refused without the token, recorded with it.
        assert daemon.api is not None
        base = f"http://127.0.0.1:{daemon.api.port}"
        alert_id = by_code["HSS-L2-SOC"].id
        refused = httpx.post(f"{base}/alerts/{alert_id}/ack", json={"who": "ops"})
        assert refused.status_code == 401
        acked = httpx.post(
            f"{base}/alerts/{alert_id}/ack",
            json={"who": "marie.cemu", "comment": "suppression voulue, UFR prévenue"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert acked.status_code == 200, acked.text
        detail = httpx.get(f"{base}/alerts/{alert_id}").json()
        assert detail["status"] == "acknowledged"
        # Attributed to the authenticated token, with the name the caller gave.
        assert detail["acknowledged_by"] == "marie.cemu (via api-token-1)"

        metrics = httpx.get(f"{base}/metrics").text
        registry = daemon.metrics.registry
        consumed = registry.get_sample_value(
            "ecampus_monitor_events_consumed_total", {"topic": elp_topic}
        )
        assert consumed is not None and consumed >= 6 + 4  # snapshot + today's edits
        dead_lettered = sum(
            s.value
            for m in registry.collect()
            for s in m.samples
            if s.name == "ecampus_monitor_events_dead_lettered_total"
        )
        assert dead_lettered == 1
        assert registry.get_sample_value("ecampus_monitor_emails_sent_total") == 3
        assert (
            'ecampus_monitor_alerts{detector="course_archived",severity="critical",status="acknowledged"} 1.0'
            in metrics
        )
        assert "21609846" not in metrics and "univ-demo.fr" not in metrics
    finally:
        producer.close()
        daemon.stop()

    # Replay every topic from the start with a new consumer group: same state, no new email.
    replay = _start(world["make_settings"](f"replay-{uuid.uuid4().hex[:8]}"), store_engine)
    # (ends: everything published above, now to be read again by the new group)
    try:
        _wait_for(lambda: replay.progress(ends).idle, "the replay processed")
        replay.settle()  # its detection and delivery have seen the replayed state
        with store_engine.connect() as conn:
            after = list_alerts(conn, AlertFilter(detector="course_archived"))
        assert len(after) == 3
        assert {a.cod_elp: a.status for a in after}["HSS-L2-SOC"] == "acknowledged"
        assert len(list(mail_dir.glob("*.eml"))) == 3
    finally:
        replay.stop()
