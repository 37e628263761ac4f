"""The state collector reads the store: rows, freshness, alerts by composante, outbox, last run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine, create_engine, insert

from alerts.tables import alert, outbox
from detectors.facts import Elp
from monitor.kafka.contracts import RunCounters, RunMessageModel, SyncRunReport
from monitor.kafka.ingest.persist import PartitionProgress, record_progress
from monitor.kafka.mapping import Change, change_from_run_report, fact_to_row
from monitor.metrics import Metrics
from monitor.store.apply import apply_changes
from monitor.store.state_metrics import StateCollector

NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
NAIVE_NOW = NOW.replace(tzinfo=None)
ELP_TOPIC = "refer.REFER.T_ADE_ACTIVITES"


def _alert(number: int, **columns: Any) -> dict[str, Any]:
    return {
        "fingerprint": f"fp-{number}",
        "detector": "course_archived",
        "subject": f"ELP{number}",
        "cause": "removed_from_offer",
        "status": "open",
        "severity": "critical",
        "audience": "scolarite",
        "phase": "predicted",
        "cod_cmp": "12",
        "cod_elp": f"ELP{number}",
        "title": "Cours archivé cette nuit",
        "summary": "…",
        "remediation": "…",
        "affected_count": 10,
        "evidence": [],
        "episode": 1,
        "first_seen": NAIVE_NOW,
        "last_seen": NAIVE_NOW,
        "updated_at": NAIVE_NOW,
    } | columns


def _mail(number: int, status: str, created_minutes_ago: int) -> dict[str, Any]:
    created = NAIVE_NOW - timedelta(minutes=created_minutes_ago)
    return {
        "dedup_key": f"k{number}",
        "alert_id": number,
        "recipients": ["scolarite@univ-test.fr"],
        "subject": "s",
        "body_text": "t",
        "body_html": "h",
        "status": status,
        "attempts": 0,
        "next_attempt_at": created,
        "created_at": created,
    }


def _run(run_id: str, hours_ago: float, status: str, **report: Any) -> Change:
    finished = NOW - timedelta(hours=hours_ago)
    return change_from_run_report(
        SyncRunReport(
            run_id=run_id,
            started_at=finished - timedelta(minutes=50),
            finished_at=finished if status != "running" else None,
            status=status,
            **report,
        )
    )


def _elp(code: str, minutes_ago: int, *, deleted: bool = False) -> Change:
    source_ts = int((NOW - timedelta(minutes=minutes_ago)).timestamp() * 1000)
    row = fact_to_row(Elp(cod_elp=code, label=code, cod_cmp="12"))
    return Change("elp", code, row, source_ts, deleted=deleted)


@pytest.fixture
def filled(store_engine: Engine) -> Engine:
    with store_engine.begin() as conn:
        apply_changes(
            conn,
            [
                _elp("HSS-L2-SOC", 120),
                _elp("DRT-L1-CIV", 90),
                _elp("GONE", 60, deleted=True),
                _run("run-previous", 27, "success"),
                _run(
                    "run-last",
                    3,
                    "failed",
                    counters=RunCounters(created=2, archived=5),
                    messages=[
                        RunMessageModel(level="warning", code="w9", cod_etu="21609846"),
                        RunMessageModel(level="warning", code="w9", cod_elp="RCAED334"),
                        RunMessageModel(level="error", code="Insc. BDD", text="élève Dupont"),
                    ],
                ),
                _run("run-tonight", 0, "running"),
            ],
            NOW,
        )
        part = PartitionProgress(ELP_TOPIC, 0)
        part.consumed(1, int((NOW - timedelta(minutes=90)).timestamp() * 1000))
        record_progress(conn, [part], NOW)
        conn.execute(
            insert(alert),
            [
                _alert(1),
                _alert(2, affected_count=5),
                _alert(3, cod_cmp="05", status="resolved", phase="occurred", episode=2),
                _alert(4, cod_cmp=None, detector="run_failed", severity="warning"),
            ],
        )
        conn.execute(
            insert(outbox),
            [_mail(1, "sent", 300), _mail(2, "queued", 45), _mail(3, "failed", 600)],
        )
    return store_engine


def _registry(engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StateCollector(engine, lambda: NOW, refresh_seconds=0))
    return registry


def test_rows_and_freshness_come_from_the_store(filled: Engine) -> None:
    value = _registry(filled).get_sample_value
    assert value("ecampus_monitor_state_rows", {"entity": "elp"}) == 2  # the tombstone is not live
    assert value("ecampus_monitor_state_rows", {"entity": "sync_run"}) == 3
    assert value("ecampus_monitor_state_rows", {"entity": "ip"}) == 0
    age = value("ecampus_monitor_state_newest_change_age_seconds", {"topic": ELP_TOPIC})
    assert age == 90 * 60


def test_alerts_are_counted_by_composante_detector_and_phase(filled: Engine) -> None:
    value = _registry(filled).get_sample_value
    predicted = {
        "composante": "12",
        "detector": "course_archived",
        "severity": "critical",
        "status": "open",
        "phase": "predicted",
    }
    assert value("ecampus_monitor_composante_alerts", predicted) == 2
    assert value("ecampus_monitor_composante_alerts_affected", predicted) == 15
    resolved = predicted | {"composante": "05", "status": "resolved", "phase": "occurred"}
    assert value("ecampus_monitor_composante_alerts", resolved) == 1
    episodes = {"composante": "05", "detector": "course_archived"}
    assert value("ecampus_monitor_alert_episodes_total", episodes) == 2
    no_composante = {"composante": "none", "detector": "run_failed"}
    assert value("ecampus_monitor_alert_episodes_total", no_composante) == 1


def test_outbox_counts_every_status_and_the_oldest_pending(filled: Engine) -> None:
    value = _registry(filled).get_sample_value
    expected = {"queued": 1, "sending": 0, "sent": 1, "failed": 1}
    for status, count in expected.items():
        assert value("ecampus_monitor_outbox_notifications", {"status": status}) == count
    assert value("ecampus_monitor_outbox_oldest_pending_age_seconds") == 45 * 60


def test_the_last_finished_run_not_the_running_one(filled: Engine) -> None:
    value = _registry(filled).get_sample_value
    last = NOW - timedelta(hours=3)
    assert value("ecampus_monitor_sync_run_last_finished_timestamp_seconds") == last.timestamp()
    assert value("ecampus_monitor_sync_run_last_duration_seconds") == 50 * 60
    assert value("ecampus_monitor_sync_run_last_success") == 0
    started = (NOW - timedelta(minutes=50)).timestamp()
    assert value("ecampus_monitor_sync_run_last_started_timestamp_seconds") == started
    assert value("ecampus_monitor_sync_run_last_courses", {"action": "archived"}) == 5
    assert value("ecampus_monitor_sync_run_last_courses", {"action": "deleted"}) == 0
    assert value("ecampus_monitor_sync_run_last_messages", {"level": "warning", "code": "w9"}) == 2
    errors = {"level": "error", "code": "Insc. BDD"}
    assert value("ecampus_monitor_sync_run_last_messages", errors) == 1


def test_no_personal_data_reaches_the_exposition(filled: Engine) -> None:
    text = generate_latest(_registry(filled)).decode()
    for personal in ("21609846", "Dupont", "RCAED334", "univ-test.fr"):
        assert personal not in text


def test_an_empty_store_gives_zeros_and_no_run(sqlite_engine: Engine) -> None:
    value = _registry(sqlite_engine).get_sample_value
    assert value("ecampus_monitor_state_collector_up") == 1
    assert value("ecampus_monitor_outbox_notifications", {"status": "queued"}) == 0
    assert value("ecampus_monitor_outbox_oldest_pending_age_seconds") == 0
    assert value("ecampus_monitor_sync_run_last_finished_timestamp_seconds") is None


def test_an_unreadable_store_says_so_and_does_not_fail_the_scrape() -> None:
    never_migrated = create_engine("sqlite://")
    registry = _registry(never_migrated)
    assert registry.get_sample_value("ecampus_monitor_state_collector_up") == 0
    assert registry.get_sample_value("ecampus_monitor_state_rows", {"entity": "elp"}) is None
    assert b"ecampus_monitor_state_collector_up 0.0" in generate_latest(registry)


def test_reads_are_cached_between_close_scrapes(filled: Engine) -> None:
    seconds = [0.0]
    registry = CollectorRegistry()
    registry.register(
        StateCollector(filled, lambda: NOW, refresh_seconds=5, monotonic=lambda: seconds[0])
    )

    def live_elps() -> float | None:
        return registry.get_sample_value("ecampus_monitor_state_rows", {"entity": "elp"})

    assert live_elps() == 2
    with filled.begin() as conn:
        apply_changes(conn, [_elp("NEW", 1)], NOW)
    seconds[0] = 4.0
    assert live_elps() == 2
    seconds[0] = 6.0
    assert live_elps() == 3


def test_registers_beside_the_process_metrics_without_a_name_clash(sqlite_engine: Engine) -> None:
    registry = CollectorRegistry(auto_describe=True)
    Metrics(registry)
    registry.register(StateCollector(sqlite_engine, lambda: NOW))
    names = {family.name for family in registry.collect()}
    assert {"ecampus_monitor_alerts", "ecampus_monitor_composante_alerts"} <= names
