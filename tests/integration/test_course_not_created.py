"""« Pourquoi mon cours n'existe pas sur Ecampus ? » predicted by the daemon from CDC events.

Debezium events through the real broker to the real daemon: an ELP with no
group and no teaching load, a student registered on it; the daemon raises
« ne sera pas créé cette nuit » for the scolarité; once the teaching load is
declared in APOGÉE (the pseudo-group will be created), the alert is resolved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer, TopicPartition
from sqlalchemy import Engine

from alerts.lifecycle import ACTIVE_STATUSES
from alerts.repository import AlertFilter, AlertRecord, list_alerts
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import OutgoingMessage, debezium_change, publish
from monitor.simulation.demo.scenario import ELP_TOPIC, IP_TOPIC
from monitor.simulation.mailsink import MailSink
from tests.integration.test_end_to_end import _prefixed, _settings, _start, _wait_for

pytestmark = pytest.mark.integration

CODE = "UE-PROJ"


def _elp(load: str) -> dict[str, Any]:
    return {
        "COD_ELP": CODE,
        "LIB_ELP": "Projet tutoré",
        "COD_CMP": "12",
        "A_DISTANCE": "N",
        "ETA_ELP": "O",
        "COD_ELP_PORTEUR": None,
        "TEM_CHARGES_ENS": load,
        "PERIODE": "S1",
        "ANNEE": 2026,
    }


def _today(at: datetime) -> list[OutgoingMessage]:
    ip = {"COD_ETU": "21800001", "COD_ELP": CODE, "IDGROUPE": None, "DISTANT": "0", "ANNEE": 2026}
    return [
        debezium_change(ELP_TOPIC, "r", _elp("N"), at=at, key_columns=["COD_ELP"]),
        debezium_change(IP_TOPIC, "r", ip, at=at, key_columns=["COD_ETU", "COD_ELP"]),
    ]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", port=0) as mail:
        yield mail


def _alerts(engine: Engine) -> list[AlertRecord]:
    with engine.connect() as conn:
        return list_alerts(conn, AlertFilter(cod_elp=CODE))


def test_the_daemon_predicts_a_course_that_will_not_be_created_and_resolves_it(
    kafka_broker: EmbeddedBroker, store_engine: Engine, sink: MailSink, tmp_path: Path
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    routing = tmp_path / "routing.yaml"
    routing.write_text('cemu: cemu@univ-test.fr\ncomposantes:\n  "12":\n    name: HSS\n'
                       "    scolarite: [scol.hss@univ-test.fr]\n", encoding="utf-8")  # fmt: skip
    settings = _settings(
        broker=kafka_broker,
        engine=store_engine,
        sink=sink,
        prefix=prefix,
        group=f"g-{uuid.uuid4().hex[:8]}",
        routing=routing,
    )
    daemon = _start(settings, store_engine)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
    try:
        now = datetime.now(UTC)
        ends: dict[TopicPartition, int] = {}
        list(publish(producer, _prefixed(_today(now), prefix), ends))
        _wait_for(lambda: daemon.progress(ends).idle and bool(_alerts(store_engine)), "alert")
        (alert,) = _alerts(store_engine)
        # One incident (detectors/incidents.py): the course that will not be created and its
        # student left without a pseudo-group are one problem, told in one alert and one email.
        assert (alert.detector, alert.cause) == ("students_not_enrolled", "no_pseudo_group")
        assert f"Le cours {CODE} « Projet tutoré » ne sera pas créé cette nuit" in alert.summary
        assert alert.status in ACTIVE_STATUSES

        # The scolarité declares the teaching load: the pseudo-group, then the course, will come.
        later = datetime.now(UTC)
        change = debezium_change(
            ELP_TOPIC, "u", _elp("O"), at=later, key_columns=["COD_ELP"], before=_elp("N")
        )
        list(publish(producer, _prefixed([change], prefix), ends))
        _wait_for(
            lambda: (
                daemon.progress(ends).idle
                and all(a.status not in ACTIVE_STATUSES for a in _alerts(store_engine))
            ),
            "the alert resolved",
        )
        (resolved,) = _alerts(store_engine)
        assert resolved.id == alert.id and resolved.status == "resolved"
    finally:
        producer.close()
        daemon.stop()
