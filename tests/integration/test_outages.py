"""Outages are waited out, not died of: the daemon process outlives its store and its broker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer
from sqlalchemy import func, select

from monitor.config import load_settings
from monitor.kafka.broker import EmbeddedBroker
from monitor.store.db import make_engine
from monitor.store.schema import fact_tables
from tests.fixtures.broker import debezium_event, topic_of
from tests.fixtures.private_mariadb import PrivateMariaDB
from tests.integration.daemon_process import DaemonProcess, cli, daemon_env, wait_for
from tests.integration.test_ingest import ip_row

pytestmark = [pytest.mark.integration, pytest.mark.slow]

IP_TOPIC = topic_of(load_settings(), "ip")
# Longer than the consumer's max poll interval (10 s, daemon_env) and several store
# retries at their 2 s ceiling; the daemon waits it out alive.
OUTAGE_SECONDS = 15


def _publish_ips(producer: KafkaProducer, numbers: range) -> None:
    for n in numbers:
        value = debezium_event(ip_row(f"2{n:07d}", cod_elp=f"ELP{n % 7}"))
        producer.send(IP_TOPIC, key=f"2{n:07d}".encode(), value=json.dumps(value).encode())
    producer.flush(timeout=30)


@pytest.mark.mariadb
def test_a_store_outage_is_waited_out_and_every_event_applied_after_it(
    private_mariadb: PrivateMariaDB, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    env = daemon_env(private_mariadb.url, own_broker.bootstrap_servers)
    upgraded = cli("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(private_mariadb.url)

    def ips() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(fact_tables["ip"])).scalar_one()
            )

    daemon = DaemonProcess(env, tmp_path / "daemon.log")
    producer = KafkaProducer(bootstrap_servers=own_broker.bootstrap_servers, linger_ms=5)
    try:
        daemon.wait_ready()
        _publish_ips(producer, range(0, 50))
        wait_for(lambda: ips() == 50, "the first events applied", daemon=daemon)
        engine.dispose()

        private_mariadb.stop()
        _publish_ips(producer, range(50, 100))
        wait_for(
            lambda: "database" in (daemon.readyz() or {}).get("failing", []),
            "/readyz not ready for the store",
            daemon=daemon,
        )
        answer = daemon.readyz()
        assert answer is not None and answer["status"] == "not ready"
        assert "state store does not answer" in answer["reasons"]["database"]
        # Events keep flowing during the outage; the daemon waits, alive.
        deadline = time.monotonic() + OUTAGE_SECONDS
        n = 100
        while time.monotonic() < deadline:
            _publish_ips(producer, range(n, n + 10))
            n += 10
            time.sleep(1)
            assert daemon.alive, daemon.log()[-3000:]
        assert (daemon.readyz() or {}).get("status") == "not ready"

        private_mariadb.start()
        daemon.wait_ready()
        wait_for(lambda: ips() == n, f"all {n} events applied after the outage", daemon=daemon)
        assert daemon.alive
        log = daemon.log()
        assert "store unreachable" in log and "store reachable again" in log
        assert "Traceback" not in log
    finally:
        producer.close()
        code = daemon.stop()
        engine.dispose()
    assert code == 0, daemon.log()[-3000:]


def test_losing_the_broker_shows_in_readyz_and_one_log_line_and_so_does_its_return(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    env = daemon_env(f"sqlite:///{tmp_path / 'state.sqlite'}", own_broker.bootstrap_servers)
    assert cli("db", "upgrade", env=env).returncode == 0
    daemon = DaemonProcess(env, tmp_path / "daemon.log")
    try:
        daemon.wait_ready()
        own_broker.stop()
        wait_for(
            lambda: "broker" in (daemon.readyz() or {}).get("failing", []),
            "/readyz not ready for the broker",
            daemon=daemon,
        )
        answer = daemon.readyz()
        assert answer is not None
        assert "Kafka does not answer" in answer["reasons"]["broker"]
        own_broker.start()  # Tansu keeps nothing: the topics are gone, the broker is back
        daemon.wait_ready()
        log = daemon.log()
        assert log.count("broker unreachable") == 1
        assert log.count("broker reachable again") == 1
        assert daemon.alive
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log()[-3000:]


@pytest.mark.mariadb
def test_a_daemon_started_during_a_store_outage_waits_for_the_store(
    private_mariadb: PrivateMariaDB, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    env = daemon_env(private_mariadb.url, own_broker.bootstrap_servers)
    assert cli("db", "upgrade", env=env).returncode == 0
    private_mariadb.stop()
    daemon = DaemonProcess(env, tmp_path / "daemon.log")
    try:
        wait_for(lambda: "store unreachable" in daemon.log(), "the outage noticed", daemon=daemon)
        assert daemon.alive
        private_mariadb.start()
        daemon.wait_ready()
        assert "store reachable again" in daemon.log()
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log()[-3000:]
