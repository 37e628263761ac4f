"""Restarts with a backlog: detection waits for a caught-up store, so a crash changes nothing.

The kill -9 test plays the demo's scripted day and night as a backlog, kills the
daemon process while it reads it, restarts it, and compares the alerts and
emails with a clean run over the same events (issue 9: a restart on a
half-loaded store raised false alerts and lost real ones).
"""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path

import pytest
from kafka import KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, create_engine, func, select

from alerts.tables import alert, outbox
from monitor.config import KafkaSettings, ScheduleSettings, StoreSettings, load_settings
from monitor.daemon import Daemon
from monitor.kafka.broker import EmbeddedBroker
from monitor.kafka.events import publish
from monitor.pipeline import AFTER_RUN_CURSOR, DAILY_CURSOR
from monitor.simulation.demo.scenario import Scenario, build_scenario
from monitor.simulation.mailsink import MailSink
from monitor.store.db import upgrade
from monitor.store.schema import dirty_elp, fact_tables, ingest_progress, pipeline_cursor
from tests.fixtures.broker import FAST_JOIN
from tests.integration.daemon_process import DaemonProcess, cli, daemon_env, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILL_ATTEMPTS = 3


@pytest.fixture
def backlog(own_broker: EmbeddedBroker) -> tuple[Scenario, int]:
    """The scripted day and night, published before any daemon runs; how many events."""
    scenario = build_scenario(datetime.now(UTC))
    producer = KafkaProducer(bootstrap_servers=own_broker.bootstrap_servers, linger_ms=5)
    ends: dict[TopicPartition, int] = {}
    list(publish(producer, [*scenario.today, *scenario.tonight], ends))
    producer.close()
    return scenario, sum(ends.values())


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.coalesce(func.sum(ingest_progress.c.events), 0))
        return int(conn.execute(query).scalar_one())


def _runs_read(engine: Engine) -> bool:
    return _runs(engine) > 0


def _runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(fact_tables["sync_run"])).scalar_one()
        )


def _cursor(engine: Engine, name: str) -> tuple[str, datetime] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(pipeline_cursor.c.value, pipeline_cursor.c.updated_at).where(
                pipeline_cursor.c.name == name
            )
        ).first()
    return None if row is None else (row.value, row.updated_at)


def _done(engine: Engine, total: int) -> bool:
    """Everything read, the after-run pass of the last run done, no dirty ELP, nothing to send."""
    with engine.connect() as conn:
        dirty = conn.execute(select(func.count()).select_from(dirty_elp)).scalar_one()
        unsent = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.status.in_(("queued", "sending")))
        ).scalar_one()
    return (
        _events(engine) == total
        and dirty == 0
        and unsent == 0
        and (_cursor(engine, AFTER_RUN_CURSOR) or ("", None))[0] != ""
    )


def _alerts(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert.c.detector, alert.c.subject, alert.c.status, alert.c.phase)
        )
        return sorted((r.detector, r.subject, r.status, r.phase) for r in rows)


def _emails(directory: Path) -> list[tuple[str, str]]:
    parsed = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in directory.glob("*.eml")
    ]
    return sorted((str(m["To"]), str(m["Subject"])) for m in parsed)


def _night(
    name: str, tmp_path: Path, broker: EmbeddedBroker, scenario: Scenario
) -> tuple[dict[str, str], Path, MailSink]:
    routing = tmp_path / f"{name}-routing.yaml"
    routing.write_text(scenario.routing_yaml, encoding="utf-8")
    sink = MailSink(tmp_path / f"{name}-mail", port=0)
    sink.start()
    env = daemon_env(
        f"sqlite:///{tmp_path / f'{name}.sqlite'}",
        broker.bootstrap_servers,
        ECAMPUS_MONITOR_SMTP__ENABLED="true",
        ECAMPUS_MONITOR_SMTP__PORT=str(sink.port),
        ECAMPUS_MONITOR_SMTP__RETRY_INITIAL_SECONDS="1",
        ECAMPUS_MONITOR_ROUTING__FILE=str(routing),
        ECAMPUS_MONITOR_ROUTING__CEMU_ADDRESS="cemu@univ-test.fr",
        # Small batches: the backlog takes long enough to be killed in the middle of it.
        ECAMPUS_MONITOR_KAFKA__MAX_POLL_RECORDS="2",
        # The digest of the day summarises whatever is stored when it is due: not this test's.
        ECAMPUS_MONITOR_NOTIFICATIONS__DIGESTS_ENABLED="false",
    )
    assert cli("db", "upgrade", env=env).returncode == 0
    return env, tmp_path / f"{name}-mail", sink


def test_kill_9_during_a_backlog_then_restart_gives_the_clean_run_alerts_and_emails(
    own_broker: EmbeddedBroker, backlog: tuple[Scenario, int], tmp_path: Path
) -> None:
    scenario, total = backlog

    env, clean_mail, clean_sink = _night("clean", tmp_path, own_broker, scenario)
    clean_store = create_engine(env["ECAMPUS_MONITOR_STORE__URL"])
    clean = DaemonProcess(env, tmp_path / "clean.log")
    try:
        wait_for(lambda: _done(clean_store, total), "the clean run", daemon=clean)
    finally:
        assert clean.stop() == 0
        clean_sink.stop()

    # Killed once the night's run reports are stored, the rest of the backlog not yet. The
    # consumer may read the runs topic last, and a loaded machine see the reports late: a
    # kill after the whole backlog judges nothing, and is tried again on a new store.
    for attempt in range(1, KILL_ATTEMPTS + 1):
        env, crash_mail, crash_sink = _night(f"crash{attempt}", tmp_path, own_broker, scenario)
        crash_store = create_engine(env["ECAMPUS_MONITOR_STORE__URL"])
        first = DaemonProcess(env, tmp_path / f"crash{attempt}-1.log")
        try:
            runs_read = partial(_runs_read, crash_store)
            wait_for(runs_read, "the run reports read", daemon=first, every=0.01)
        finally:
            first.kill()
        read_before_kill = _events(crash_store)
        if read_before_kill < total or attempt == KILL_ATTEMPTS:
            break
        crash_sink.stop()
        crash_store.dispose()
    assert 0 < read_before_kill < total, "killed in the middle of the backlog"
    second = DaemonProcess(env, tmp_path / f"crash{attempt}-2.log")
    try:
        wait_for(lambda: _done(crash_store, total), "the run after the restart", daemon=second)
    finally:
        assert second.stop() == 0
        crash_sink.stop()

    expected = _alerts(clean_store)
    assert expected, "the scripted night raises alerts"
    assert _alerts(crash_store) == expected
    assert _emails(clean_mail), "the scripted night sends emails"
    assert _emails(crash_mail) == _emails(clean_mail)
    clean_store.dispose()
    crash_store.dispose()


def test_the_first_start_runs_the_daily_pass_only_once_the_store_has_caught_up(
    own_broker: EmbeddedBroker, backlog: tuple[Scenario, int], tmp_path: Path
) -> None:
    _scenario, total = backlog
    settings = load_settings(
        kafka=KafkaSettings(
            bootstrap_servers=[own_broker.bootstrap_servers],
            group_id=f"first-{uuid.uuid4().hex[:8]}",
            max_poll_records=5,
            **FAST_JOIN,
        ),
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'state.sqlite'}"),
        # Due at once: the old daemon ran it on the empty store before joining the group.
        schedule=ScheduleSettings(daily_time=time(0, 0)),
        smtp={"enabled": False},
        http={"enabled": False},
    )
    daemon = Daemon(settings, registry=CollectorRegistry())
    upgrade(daemon.engine)
    daemon.start()
    try:
        wait_for(lambda: _cursor(daemon.engine, DAILY_CURSOR) is not None, "the daily pass")
        daemon.settle()
        cursor = _cursor(daemon.engine, DAILY_CURSOR)
        assert cursor is not None
        with daemon.engine.connect() as conn:
            last_applied = conn.execute(select(func.max(ingest_progress.c.updated_at))).scalar()
        # Every event was in the store when the day was marked done.
        assert _events(daemon.engine) == total
        assert last_applied is not None and last_applied <= cursor[1]
    finally:
        daemon.stop()
