"""Metrics read from the state store at scrape time: what the store holds, not what one process did.

Rows per entity, freshness of each source topic, alerts by composante,
the outbox and the last sync run survive restarts and are the same for every
worker of a consumer group, so they are computed from the store when
Prometheus scrapes (at most every ``refresh_seconds``) rather than counted in
memory. Several workers expose the same values: aggregate them with ``max``,
never ``sum`` (the recording rules in ``grafana/prometheus/rules.yml`` do).

>>> registry.register(StateCollector(engine, utc_now))   # doctest: +SKIP

``read_state`` (SQL) and ``state_families`` (pure) are the two halves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, false, func, select
from sqlalchemy.exc import SQLAlchemyError

from alerts.tables import alert, outbox
from monitor.clock import Clock
from monitor.metrics import NAMESPACE
from monitor.store.schema import fact_tables, ingest_progress

log = logging.getLogger(__name__)

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")
PENDING_OUTBOX_STATUSES = ("queued", "sending")
RUN_ACTIONS = ("created", "archived", "unarchived", "deleted")
# An alert not tied to a composante (a run-level problem, for CEMU).
NO_COMPOSANTE = "none"


@dataclass(frozen=True)
class AlertGroup:
    """Alerts sharing composante, detector, severity, status and phase."""

    composante: str
    detector: str
    severity: str
    status: str
    phase: str
    alerts: int
    affected: int
    episodes: int


@dataclass(frozen=True)
class FinishedRun:
    """The last finished lmsjonction run; ``messages`` counts report lines by (level, code)."""

    started_at: datetime
    finished_at: datetime
    success: bool
    courses: dict[str, int]
    messages: dict[tuple[str, str], int]


@dataclass(frozen=True)
class StateSnapshot:
    """What the collector read from the store in one go."""

    rows: dict[str, int] = field(default_factory=dict)
    newest_change: dict[str, datetime] = field(default_factory=dict)
    alerts: list[AlertGroup] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    oldest_pending: datetime | None = None
    last_started: datetime | None = None
    last_finished: FinishedRun | None = None


def _aware(moment: datetime) -> datetime:
    """The store keeps naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_state(conn: Connection) -> StateSnapshot:
    """Read every value the state metrics need: a handful of aggregate queries."""
    rows: dict[str, int] = {
        name: int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.tombstone == false())
            ).scalar_one()
        )
        for name, table in fact_tables.items()
    }
    newest_change = {
        topic: datetime.fromtimestamp(newest_ms / 1000, tz=UTC)
        for topic, newest_ms in conn.execute(
            select(ingest_progress.c.topic, func.max(ingest_progress.c.last_source_ts)).group_by(
                ingest_progress.c.topic
            )
        )
        if newest_ms is not None
    }
    keys = (alert.c.cod_cmp, alert.c.detector, alert.c.severity, alert.c.status, alert.c.phase)
    alert_groups = [
        AlertGroup(
            composante=cod_cmp or NO_COMPOSANTE,
            detector=detector,
            severity=severity,
            status=status,
            phase=phase,
            alerts=int(count),
            affected=int(affected or 0),
            episodes=int(episodes or 0),
        )
        for cod_cmp, detector, severity, status, phase, count, affected, episodes in conn.execute(
            select(
                *keys,
                func.count(),
                func.sum(alert.c.affected_count),
                func.sum(alert.c.episode),
            ).group_by(*keys)
        )
    ]
    outbox_counts = {
        status: int(count)
        for status, count in conn.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        )
    }
    oldest_pending = conn.execute(
        select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(PENDING_OUTBOX_STATUSES))
    ).scalar_one_or_none()
    runs = fact_tables["sync_run"]
    live_runs = runs.c.tombstone == false()
    last_started = conn.execute(
        select(func.max(runs.c.started_at)).where(live_runs)
    ).scalar_one_or_none()
    finished = conn.execute(
        select(runs)
        .where(live_runs, runs.c.finished_at.is_not(None), runs.c.status != "running")
        .order_by(runs.c.finished_at.desc())
        .limit(1)
    ).first()
    return StateSnapshot(
        rows=rows,
        newest_change=newest_change,
        alerts=alert_groups,
        outbox=outbox_counts,
        oldest_pending=_aware(oldest_pending) if oldest_pending is not None else None,
        last_started=_aware(last_started) if last_started is not None else None,
        last_finished=_finished_run(finished._mapping) if finished is not None else None,
    )


def _finished_run(row: Any) -> FinishedRun:
    messages: dict[tuple[str, str], int] = {}
    for line in row["messages"] or ():
        # Only the level and the code: the line's text, cod_elp and cod_etu stay out of labels.
        key = (str(line.get("level", "")), str(line.get("code", "")))
        messages[key] = messages.get(key, 0) + 1
    return FinishedRun(
        started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]),
        success=row["status"] == "success",
        courses={action: int(row[action] or 0) for action in RUN_ACTIONS},
        messages=messages,
    )


def _name(suffix: str) -> str:
    return f"{NAMESPACE}_{suffix}"


def _age(now: datetime, moment: datetime) -> float:
    return max(0.0, (now - moment).total_seconds())


def state_families(snapshot: StateSnapshot, now: datetime) -> list[Metric]:
    """The metric families for ``snapshot`` seen at ``now`` (no sample for an unknown value)."""
    rows = GaugeMetricFamily(
        _name("state_rows"),
        "Live (not deleted) rows in the state store, by entity.",
        labels=["entity"],
    )
    for entity, count in sorted(snapshot.rows.items()):
        rows.add_metric([entity], count)

    freshness = GaugeMetricFamily(
        _name("state_newest_change_age_seconds"),
        "Age of the newest change applied from each source topic (its source timestamp).",
        labels=["topic"],
    )
    for topic, newest in sorted(snapshot.newest_change.items()):
        freshness.add_metric([topic], _age(now, newest))

    alert_labels = ["composante", "detector", "severity", "status", "phase"]
    alerts = GaugeMetricFamily(
        _name("composante_alerts"),
        "Alerts in the store, by composante, detector, severity, status and phase.",
        labels=alert_labels,
    )
    affected = GaugeMetricFamily(
        _name("composante_alerts_affected"),
        "Sum of the alerts' affected counts (people losing access, courses…), same labels.",
        labels=alert_labels,
    )
    episodes_by_key: dict[tuple[str, str], int] = {}
    for group in snapshot.alerts:
        values = [group.composante, group.detector, group.severity, group.status, group.phase]
        alerts.add_metric(values, group.alerts)
        affected.add_metric(values, group.affected)
        key = (group.composante, group.detector)
        episodes_by_key[key] = episodes_by_key.get(key, 0) + group.episodes
    episodes = CounterMetricFamily(
        _name("alert_episodes"),
        "Alert episodes ever recorded (a new alert or a reopened one), by composante and detector.",
        labels=["composante", "detector"],
    )
    for (composante, detector), count in sorted(episodes_by_key.items()):
        episodes.add_metric([composante, detector], count)

    outbox_rows = GaugeMetricFamily(
        _name("outbox_notifications"),
        "Notifications in the outbox, by status (queued, sending, sent, failed = given up).",
        labels=["status"],
    )
    for status in sorted({*OUTBOX_STATUSES, *snapshot.outbox}):
        outbox_rows.add_metric([status], snapshot.outbox.get(status, 0))
    oldest = GaugeMetricFamily(
        _name("outbox_oldest_pending_age_seconds"),
        "Age of the oldest notification not yet sent (0 when none is waiting).",
    )
    oldest.add_metric(
        [], _age(now, snapshot.oldest_pending) if snapshot.oldest_pending is not None else 0.0
    )

    families: list[Metric] = [rows, freshness, alerts, affected, episodes, outbox_rows, oldest]
    return families + _run_families(snapshot, now)


def _run_families(snapshot: StateSnapshot, now: datetime) -> list[Metric]:
    started = GaugeMetricFamily(
        _name("sync_run_last_started_timestamp_seconds"),
        "Start time of the newest lmsjonction run, finished or not.",
    )
    finished = GaugeMetricFamily(
        _name("sync_run_last_finished_timestamp_seconds"),
        "End time of the last finished lmsjonction run.",
    )
    duration = GaugeMetricFamily(
        _name("sync_run_last_duration_seconds"), "Duration of the last finished run."
    )
    success = GaugeMetricFamily(
        _name("sync_run_last_success"), "1 if the last finished run succeeded, 0 if it failed."
    )
    courses = GaugeMetricFamily(
        _name("sync_run_last_courses"),
        "Courses the last finished run created, archived, unarchived or deleted.",
        labels=["action"],
    )
    messages = GaugeMetricFamily(
        _name("sync_run_last_messages"),
        "Lines of the last finished run's report, by level (info, warning, error, alert) and code.",
        labels=["level", "code"],
    )
    if snapshot.last_started is not None:
        started.add_metric([], snapshot.last_started.timestamp())
    run = snapshot.last_finished
    if run is not None:
        finished.add_metric([], run.finished_at.timestamp())
        duration.add_metric([], max(0.0, (run.finished_at - run.started_at).total_seconds()))
        success.add_metric([], 1.0 if run.success else 0.0)
        for action in RUN_ACTIONS:
            courses.add_metric([action], run.courses.get(action, 0))
        for (level, code), count in sorted(run.messages.items()):
            messages.add_metric([level, code], count)
    return [started, finished, duration, success, courses, messages]


def _health_families(up: bool, seconds: float) -> list[Metric]:
    healthy = GaugeMetricFamily(
        _name("state_collector_up"), "1 if the last read of the state store for metrics succeeded."
    )
    healthy.add_metric([], 1.0 if up else 0.0)
    duration = GaugeMetricFamily(
        _name("state_collector_duration_seconds"), "Time the last read of the state store took."
    )
    duration.add_metric([], seconds)
    return [healthy, duration]


class StateCollector(Collector):
    """A Prometheus collector over the state store; register it on the daemon's registry.

    A failed read yields ``state_collector_up 0`` and no state metric (stale
    values would read as facts); it never fails the scrape.
    """

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        refresh_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: list[Metric] | None = None
        self._cached_at = 0.0

    def describe(self) -> Iterable[Metric]:
        """The families without samples: lets the registry check names without a query."""
        return state_families(StateSnapshot(), self.clock()) + _health_families(True, 0.0)

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            started = self.monotonic()
            if self._cached is not None and started - self._cached_at < self.refresh_seconds:
                return list(self._cached)
            try:
                with self.engine.connect() as conn:
                    snapshot = read_state(conn)
            except SQLAlchemyError as error:
                log.warning("state metrics: cannot read the state store: %s", error)
                self._cached = None
                return _health_families(False, self.monotonic() - started)
            families = state_families(snapshot, self.clock())
            self._cached = families + _health_families(True, self.monotonic() - started)
            self._cached_at = started
            return list(self._cached)
