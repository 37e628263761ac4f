"""``ecampus-monitor replay``: recorded topics through the daemon on the events' own time.

The live run is the scored university's: the simulation published to the
embedded broker phase by phase, the real daemon ingesting it on a clock moved
to each checkpoint. The same simulation written as JSON lines by the real
``simulate --out`` and replayed by the real ``replay`` command (a process, its
own store, emails as .eml files) must open the same alerts.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer
from sqlalchemy import Engine, select

from alerts.tables import alert
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import OutgoingMessage, publish
from monitor.pipeline import DAILY_CURSOR, read_cursor
from monitor.simulation import FaultConfig
from monitor.simulation.demo.scenario import build_scenario
from monitor.simulation.sinks import JsonLinesWriter
from monitor.store.db import make_engine
from tests.fixtures.broker import SettingsFactory
from tests.integration.test_scored_university import (
    CEMU,
    PUBLIC_URL,
    SEED,
    _ever_opened,
    _scored_run,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = [sys.executable, "-m", "monitor"]
NIGHTS = 2
SCALE = "tiny"  # its live run is a scored run of the tiny university


def _cli(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env |= variables
    result = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_replay_of_recorded_days_opens_the_alerts_of_the_live_run(
    kafka_broker: EmbeddedBroker,
    kafka_settings: SettingsFactory,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    (tmp_path / "live").mkdir()
    sim, _run = _scored_run(
        kafka_settings,
        sqlite_engine,
        FaultConfig(),
        NIGHTS,
        tmp_path / "live" / "mail",
        scale=SCALE,
    )
    live = _ever_opened(sqlite_engine)
    assert len(live) > 20

    recorded = tmp_path / "recorded"
    _cli("simulate", "--scale", SCALE, "--nights", str(NIGHTS), "--seed", str(SEED),
         "--out", str(recorded))  # fmt: skip
    routing = tmp_path / "routing.yaml"
    routing.write_text(sim.uni.routing_yaml(cemu=CEMU), encoding="utf-8")
    config = tmp_path / "replay.yaml"
    config.write_text(
        f"routing:\n  file: {routing}\n  cemu_address: {CEMU}\nhttp:\n  public_url: {PUBLIC_URL}\n",
        encoding="utf-8",
    )
    out = tmp_path / "replay"
    shown = _cli("replay", "--from", str(recorded), "--dir", str(out), "--config", str(config))
    assert "detection cycles" in shown.stdout

    replayed_store = make_engine(f"sqlite:///{out / 'state.sqlite'}")
    try:
        assert _ever_opened(replayed_store) == live
        # The daily pass fired as the days passed, the last one the morning after the last night.
        last_morning = sim.schedule.start + timedelta(days=NIGHTS)  # the last run is that night
        assert read_cursor(replayed_store, DAILY_CURSOR) == last_morning.isoformat()
    finally:
        replayed_store.dispose()
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((out / "mail").glob("*.eml"))
    ]
    assert any("Récapitulatif du" in str(m["Subject"]) for m in mails), "no digest in replay"


def test_replay_from_kafka_topics_equals_replay_from_files(
    kafka_broker: EmbeddedBroker,
    kafka_settings: SettingsFactory,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    """The scripted scenario (three courses archived tonight), recorded on a Kafka and in
    files: both replays open the same alerts, the three archives among them."""
    sources = kafka_settings().sources
    scenario = build_scenario(datetime(2026, 10, 14, 22, 0, tzinfo=UTC))

    def recorded(message: OutgoingMessage) -> OutgoingMessage:
        return OutgoingMessage(topic_prefix + message.topic, message.key, message.value)

    messages = [recorded(m) for m in [*scenario.today, *scenario.tonight]]
    files = tmp_path / "recorded"
    with JsonLinesWriter(files) as writer:
        for message in messages:
            writer.write(message)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
    list(publish(producer, messages))
    producer.close()
    routing = tmp_path / "routing.yaml"
    routing.write_text(scenario.routing_yaml, encoding="utf-8")
    config = tmp_path / "replay.yaml"
    config.write_text(
        yaml.safe_dump(
            {"sources": sources.model_dump(mode="json"), "routing": {"file": str(routing)}}
        ),
        encoding="utf-8",
    )

    alerts = {}
    for name, origin in (
        ("files", ["--from", str(files)]),
        ("kafka", ["--bootstrap", kafka_broker.bootstrap_servers]),
    ):
        out = tmp_path / name
        _cli("replay", *origin, "--dir", str(out), "--config", str(config), "--step", "30")
        store = make_engine(f"sqlite:///{out / 'state.sqlite'}")
        alerts[name] = _ever_opened(store)
        store.dispose()
    assert alerts["kafka"] == alerts["files"]
    archived = {s for d, s, _c in alerts["files"] if d == "course_archived"}
    assert len(archived) == 3, alerts["files"]

    # A threshold set in the environment reaches the detectors of the real command.
    strict = tmp_path / "strict"
    _cli(
        *("replay", "--from", str(files), "--dir", str(strict), "--config", str(config)),
        ECAMPUS_MONITOR_RULES__THRESHOLDS__CRITICAL_AFFECTED="1000",
    )
    assert "critical" in _archive_severities(tmp_path / "files")
    assert _archive_severities(strict) == {"warning"}


def _archive_severities(out: Path) -> set[str]:
    store = make_engine(f"sqlite:///{out / 'state.sqlite'}")
    try:
        with store.connect() as conn:
            rows = conn.execute(
                select(alert.c.severity).where(alert.c.detector == "course_archived")
            ).scalars()
            return set(rows)
    finally:
        store.dispose()
