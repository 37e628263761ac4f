"""The command line as an operator uses it: real processes, real broker, real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from kafka import KafkaProducer, TopicPartition
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from alerts.tables import alert
from monitor.cli import app
from monitor.kafka.broker import EmbeddedBroker, free_port
from monitor.kafka.events import publish
from monitor.simulation.demo.scenario import build_scenario
from monitor.store.schema import fact_tables

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "monitor"]


def _env(tmp_path: Path, broker: EmbeddedBroker, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env |= {
        "ECAMPUS_MONITOR_STORE__URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": json.dumps([broker.bootstrap_servers]),
        "ECAMPUS_MONITOR_KAFKA__GROUP_ID": f"cli-{uuid.uuid4().hex[:8]}",
        "ECAMPUS_MONITOR_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "ECAMPUS_MONITOR_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        "ECAMPUS_MONITOR_SMTP__ENABLED": "false",
    }
    return env | extra


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command of the tree, groups included (a group's ``commands`` are its children)."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


def test_every_command_has_help() -> None:
    """Every command and group of the tree answers ``--help`` (in-process: an interpreter per
    command cost a start each), and the installed entry point does too, as a real process."""
    paths = set(_command_paths(typer.main.get_command(app)))
    assert {
        (),
        ("run",),
        ("demo",),
        ("db", "upgrade"),
        ("config", "show"),
        ("alerts", "list"),
        ("alerts", "ack"),
        ("outbox", "list"),
        ("outbox", "retry"),
        ("diagnose",),
        ("replay",),
        ("simulate",),
    } <= paths
    runner = CliRunner()
    for path in sorted(paths):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output, path

    result = subprocess.run([*CLI, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_config_show_masks_secrets_and_a_wrong_setting_names_itself(
    tmp_path: Path, kafka_broker: EmbeddedBroker
) -> None:
    env = _env(tmp_path, kafka_broker, ECAMPUS_MONITOR_SMTP__PASSWORD="hunter2")
    shown = _cli("config", "show", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "hunter2" not in shown.stdout
    assert "'**********'" in shown.stdout or "**********" in shown.stdout

    wrong = _cli("config", "show", env=env | {"ECAMPUS_MONITOR_KAFKA__MAX_POLL_RECORDS": "zero"})
    assert wrong.returncode == 2
    assert "kafka.max_poll_records" in wrong.stderr


def test_run_refuses_an_unmigrated_store(tmp_path: Path, kafka_broker: EmbeddedBroker) -> None:
    result = _cli("run", env=_env(tmp_path, kafka_broker))
    assert result.returncode == 2
    assert "ecampus-monitor db upgrade" in result.stderr


@pytest.mark.slow
def test_worker_ingests_then_exits_cleanly_on_sigterm(
    tmp_path: Path, kafka_broker: EmbeddedBroker
) -> None:
    metrics_port = free_port()
    env = _env(
        tmp_path,
        kafka_broker,
        ECAMPUS_MONITOR_METRICS__PORT=str(metrics_port),
        ECAMPUS_MONITOR_LOG_LEVEL="WARNING",
    )
    upgraded = _cli("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr

    worker = subprocess.Popen(
        [*CLI, "run", "--role", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker's metrics never answered"
            time.sleep(0.3)

        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
        ends: dict[TopicPartition, int] = {}
        today = build_scenario(datetime.now(UTC)).today
        list(publish(producer, today, ends))
        producer.close()

        engine = create_engine(env["ECAMPUS_MONITOR_STORE__URL"])
        ips = fact_tables["ip"]
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(ips)).scalar_one()
            if count >= 171:
                break
            assert time.monotonic() < deadline, f"only {count} IPs ingested"
            time.sleep(0.5)
        # Detection follows ingest (once it has read every partition to its end).
        while True:
            with engine.connect() as conn:
                archived = conn.execute(
                    select(func.count())
                    .select_from(alert)
                    .where(alert.c.detector == "course_archived")
                ).scalar_one()
            if archived >= 3:
                break
            assert time.monotonic() < deadline, f"only {archived} course_archived alerts"
            time.sleep(0.5)
        engine.dispose()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            raise
    assert code == 0, worker.stderr.read() if worker.stderr else ""

    listed = _cli("alerts", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    alerts = json.loads(listed.stdout)
    assert {a["cod_elp"] for a in alerts} >= {"HSS-L2-SOC", "DRT-L1-CIV", "2HR5C"}

    first = min(a["id"] for a in alerts)
    acked = _cli("alerts", "ack", str(first), "--who", "ops.cemu", "--comment", "vu", env=env)
    assert acked.returncode == 0, acked.stderr
    again = json.loads(_cli("alerts", "list", "--json", "--status", "acknowledged", env=env).stdout)
    assert [a["id"] for a in again] == [first]
    missing = _cli("alerts", "ack", "999999", env=env)
    assert missing.returncode == 1
    assert "no alert 999999" in missing.stderr

    # A ticket about the removed course, answered from the store in French.
    diagnosis = _cli("diagnose", "--course", "HSS-L2-SOC", env=env)
    assert diagnosis.returncode == 0, diagnosis.stderr
    assert "supprimé de REFER" in diagnosis.stdout
    assert "scolarité de la composante 12" in diagnosis.stdout
    as_json = json.loads(_cli("diagnose", "--student", "20000003", "--json", env=env).stdout)
    assert as_json["student"] == "20000003"
    assert as_json["faults"] == 0
    assert _cli("diagnose", env=env).returncode == 2  # nothing to diagnose
