"""The detection pipeline's moments on a real store: ahead, after a run, daily, continuous."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, event, select, update

from alerts.notify.outbox import Notifier
from alerts.repository import AlertFilter, list_alerts
from alerts.routing import Router
from alerts.tables import alert as alert_table
from detectors.base import Detector, DetectorConfig
from detectors.registry import DETECTORS
from monitor.kafka.mapping import Change
from monitor.metrics import Metrics
from monitor.pipeline import DAILY_CURSOR, DetectionPipeline, WholeStateReports
from monitor.store.apply import apply_changes
from monitor.store.db import make_engine
from monitor.store.schema import dirty_elp, pipeline_cursor

# Tuesday 1 December 2026, 10:00 in Paris: a working day, after the 07:00 deadline.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _pipeline(
    engine: Engine,
    registry: CollectorRegistry | None = None,
    detectors: Sequence[Detector] = DETECTORS,
) -> DetectionPipeline:
    return DetectionPipeline(
        engine,
        notifier=Notifier(Router.load(None, "cemu@univ-test.fr"), "https://ecm.test"),
        sender=None,
        metrics=Metrics(registry or CollectorRegistry()),
        config=DetectorConfig(),
        daily_at=time(6, 30),
        continuous_every=timedelta(minutes=1),
        detectors=detectors,
    )


def _run(run_id: str, started: datetime, status: str = "success") -> Change:
    row = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": started + timedelta(hours=1),
        "status": status,
        "created": 0,
        "archived": 0,
        "unarchived": 0,
        "deleted": 0,
        "messages": [],
    }
    return Change("sync_run", run_id, row, source_ts=int(started.timestamp() * 1000), source_seq=1)


def test_continuous_pass_raises_a_missing_night_run_once_per_interval(
    sqlite_engine: Engine,
) -> None:
    yesterday_night = NOW - timedelta(days=1, hours=7)
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-1", yesterday_night)], NOW)
    pipeline = _pipeline(sqlite_engine)
    report = pipeline.run_continuous(NOW)
    assert report is not None and report.detectors == {"sync_run_health": 1}
    assert pipeline.run_continuous(NOW + timedelta(seconds=10)) is None  # not due yet
    with sqlite_engine.connect() as conn:
        (alert,) = list_alerts(conn, AlertFilter(detector="sync_run_health"))
    assert alert.cause == "run_missing"
    assert alert.audience == "oncall"


def test_daily_pass_runs_once_per_local_day_after_its_time(sqlite_engine: Engine) -> None:
    pipeline = _pipeline(sqlite_engine)
    early = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 in Paris: before 06:30
    assert pipeline.run_daily(early) is None
    assert pipeline.run_daily(NOW) is not None
    assert pipeline.run_daily(NOW + timedelta(hours=3)) is None
    with sqlite_engine.connect() as conn:
        day = conn.execute(
            select(pipeline_cursor.c.value).where(pipeline_cursor.c.name == DAILY_CURSOR)
        ).scalar_one()
    assert day == "2026-12-01"
    assert pipeline.run_daily(NOW + timedelta(days=1)) is not None


def test_ahead_pass_drains_the_dirty_elps_and_after_run_waits_for_a_new_run(
    sqlite_engine: Engine,
) -> None:
    elp = {
        "cod_elp": "RCAED334",
        "label": "Méthodologie",
        "cod_cmp": "12",
        "a_distance": False,
        "status": "open",
        "porteur": None,
        "has_teaching_load": True,
        "period": "S1",
        "year": 2026,
    }
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [Change("elp", "RCAED334", elp, source_ts=1000)], NOW)
    pipeline = _pipeline(sqlite_engine)
    report = pipeline.run_ahead(NOW)
    assert report is not None and report.scope_size == 1
    assert pipeline.run_ahead(NOW) is None
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(dirty_elp)).all() == []

    assert pipeline.run_after_run(NOW) is None  # no run finished yet
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-1", NOW - timedelta(hours=8))], NOW)
    assert pipeline.run_after_run(NOW) is not None
    assert pipeline.run_after_run(NOW) is None  # once per run


def _alerts(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return sorted(
            (a.detector, a.subject, a.cause or "", a.status)
            for a in list_alerts(conn, AlertFilter())
        )


def test_the_after_run_and_daily_passes_due_together_load_the_state_once(
    sqlite_engine: Engine, migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """A run that failed and finished after the daily time: both passes are due at once."""
    twin = tmp_path / "twin.sqlite"  # the same store, for the two passes run one by one
    shutil.copyfile(migrated_sqlite_template, twin)
    separate = make_engine(f"sqlite:///{twin}")
    for engine in (sqlite_engine, separate):
        with engine.begin() as conn:
            apply_changes(conn, [_run("r-1", NOW - timedelta(hours=2), "failure")], NOW)
    course_reads: dict[Engine, int] = {sqlite_engine: 0, separate: 0}

    def counter(engine: Engine) -> Callable[..., None]:
        def count(conn: object, cursor: object, statement: str, *_: object) -> None:
            if "FROM fact_mdl_course " in statement:  # Moodle's courses, live or deleted
                course_reads[engine] += 1

        return count

    for engine in course_reads:
        event.listen(engine, "before_cursor_execute", counter(engine))

    both = _pipeline(sqlite_engine).run_whole_state(NOW)
    assert both.after_run is not None and both.daily is not None
    together_reads = course_reads[sqlite_engine]

    one_by_one = _pipeline(separate)
    after_run = one_by_one.run_after_run(NOW)
    assert together_reads > 0
    assert course_reads[separate] == together_reads  # one load of the state, not two
    daily = one_by_one.run_daily(NOW)
    assert course_reads[separate] == 2 * together_reads
    assert after_run is not None and daily is not None
    assert (both.after_run.detectors, both.daily.detectors) == (
        after_run.detectors,
        daily.detectors,
    )
    assert both.after_run.detectors["sync_run_health"] == 1  # the failed run, found
    assert _alerts(sqlite_engine) == _alerts(separate) != []
    # Each cursor moved as when its pass runs alone: neither pass is due again.
    again = _pipeline(sqlite_engine)
    assert again.pending_after_run() is None and again.daily_due(NOW) is None
    assert again.run_whole_state(NOW) == WholeStateReports()
    # Asked for one of them only, the other is left due.
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-2", NOW - timedelta(hours=1))], NOW)
    tomorrow = NOW + timedelta(days=1)
    only_daily = again.run_whole_state(tomorrow, after_run=False)
    assert only_daily.after_run is None and only_daily.daily is not None
    assert again.pending_after_run() == "r-2"
    separate.dispose()


def test_a_failing_detector_is_counted_and_leaves_its_alerts_and_the_others_alone(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    from detectors.known import sync_run_health

    yesterday_night = NOW - timedelta(days=1, hours=7)
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-1", yesterday_night)], NOW)
    assert _pipeline(sqlite_engine).run_continuous(NOW) is not None  # opens run_missing

    def explode(*_args: object, **_kwargs: object) -> list[object]:
        raise KeyError("21609846")  # a message that may quote personal data

    broken = Detector("sync_run_health", frozenset({"continuous"}), explode)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    pipeline = _pipeline(sqlite_engine, registry, detectors=(broken,))  # passed in, not patched
    report = pipeline.run_continuous(NOW + timedelta(minutes=5))
    assert report is not None and report.failed == ["sync_run_health"]
    with sqlite_engine.connect() as conn:
        (alert,) = list_alerts(conn, AlertFilter(detector=sync_run_health.NAME))
    assert alert.status == "open"  # not resolved for want of findings
    failures = registry.get_sample_value(
        "ecampus_monitor_detector_failures_total",
        {"detector": "sync_run_health", "moment": "continuous"},
    )
    assert failures == 1
    logged = [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]
    assert any("sync_run_health failed" in m for m in logged)
    assert not any("21609846" in m for m in logged)  # no personal data above debug


def test_alerts_store_their_cause_label_and_a_start_writes_it_on_older_rows(
    sqlite_engine: Engine,
) -> None:
    yesterday_night = NOW - timedelta(days=1, hours=7)
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-1", yesterday_night)], NOW)
    pipeline = _pipeline(sqlite_engine)
    assert pipeline.run_continuous(NOW) is not None
    with sqlite_engine.connect() as conn:
        (alert,) = list_alerts(conn, AlertFilter(detector="sync_run_health"))
    assert alert.cause_label == "Synchronisation de la nuit absente"  # from its module
    # A row from before migration 0008 (no label), and one whose label was reworded since.
    with sqlite_engine.begin() as conn:
        conn.execute(update(alert_table).values(cause_label=None))
    pipeline.warm_up()
    with sqlite_engine.begin() as conn:
        assert conn.execute(select(alert_table.c.cause_label)).scalar_one() == alert.cause_label
        conn.execute(update(alert_table).values(cause_label="Ancien libellé"))
    pipeline.warm_up()
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(alert_table.c.cause_label)).scalar_one() == alert.cause_label


def test_a_finding_with_an_undeclared_cause_fails_its_detector_like_an_error(
    sqlite_engine: Engine,
) -> None:
    from detectors.known import sync_run_health

    yesterday_night = NOW - timedelta(days=1, hours=7)
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_run("r-1", yesterday_night)], NOW)
    # The real detector, declaring one cause fewer than it finds.
    undeclaring = replace(
        sync_run_health.DETECTOR,
        causes=tuple(c for c in sync_run_health.OWN_CAUSES if c.code != "run_missing"),
    )
    registry = CollectorRegistry()
    report = _pipeline(sqlite_engine, registry, detectors=(undeclaring,)).run_continuous(NOW)
    assert report is not None and report.failed == ["sync_run_health"]
    with sqlite_engine.connect() as conn:
        assert list_alerts(conn, AlertFilter(detector="sync_run_health")) == []
    assert (
        registry.get_sample_value(
            "ecampus_monitor_detector_failures_total",
            {"detector": "sync_run_health", "moment": "continuous"},
        )
        == 1
    )
