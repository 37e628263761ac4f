"""The metrics catalogue: every Prometheus metric the daemon records itself, defined once.

Components take a ``Metrics`` (built on a registry, the global one by default;
tests build a fresh ``CollectorRegistry()``). Metrics read from the state store
at scrape time (rows, alerts by composante, outbox, sync runs) are in
``monitor.store.state_metrics``. Labels are bounded sets: topics, partitions,
detectors, moments, severities, statuses, composante codes; never a student
number, a name or an email. ``grafana/METRICS.md`` lists them all
(``python scripts/make_grafana.py`` writes it).

>>> metrics = Metrics(CollectorRegistry())
>>> metrics.events_consumed.labels("refer.REFER.T_ADE_ACTIVITES").inc()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Info

NAMESPACE = "ecampus_monitor"

# From a few ms (a small batch on SQLite) to a minute (a start-of-year burst on MariaDB).
APPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Where a batch's time goes in the ingest loop (issue 13), in the order of the loop.
INGEST_STAGES = (
    "poll",
    "decode",
    "map",
    "apply",
    "dirty",
    "store_commit",
    "dead_letters",
    "offset_commit",
    "other",
)
# From "right away" to "replayed from a snapshot days old".
DELAY_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400)


def _package_version() -> str:
    try:
        return version("ecampus-monitor")
    except PackageNotFoundError:
        return "unknown"


class Metrics:
    """All metrics recorded by one process, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.build_info = Info(
            "build",
            "Version of the running ecampus-monitor.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.build_info.info({"version": _package_version()})

        # -- ingest -------------------------------------------------------------------------
        self.events_consumed = Counter(
            "events_consumed",
            "Change events and run reports consumed, by topic.",
            ["topic"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.events_dead_lettered = Counter(
            "events_dead_lettered",
            "Messages sent to the dead-letter topic, by source topic and reason kind.",
            ["topic", "reason"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.events_ignored = Counter(
            "events_ignored",
            "Messages of Debezium's own topics read and ignored, by kind "
            "(heartbeat, schema_change, transaction).",
            ["kind"],
            namespace=NAMESPACE,
            registry=registry,
        )
        for kind in ("heartbeat", "schema_change", "transaction"):  # decode.IgnoredKind
            self.events_ignored.labels(kind)  # 0 rather than no data on the dashboards
        self.batch_apply_seconds = Histogram(
            "batch_apply_seconds",
            "Time to apply one consumed batch to the state store (one transaction).",
            namespace=NAMESPACE,
            registry=registry,
            buckets=APPLY_BUCKETS,
        )
        self.batch_size = Histogram(
            "batch_size_events",
            "Events per applied batch.",
            namespace=NAMESPACE,
            registry=registry,
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000),
        )
        self.apply_delay = Histogram(
            "apply_delay_seconds",
            "Delay from a change in the source (Debezium source ts_ms) to its commit in the "
            "state store: the newest change of each partition of each batch, by topic.",
            ["topic"],
            namespace=NAMESPACE,
            registry=registry,
            buckets=DELAY_BUCKETS,
        )
        self.ingest_stage_seconds = Histogram(
            "ingest_stage_seconds",
            "Time the ingest loop spent per batch in each stage: poll (Kafka fetch), decode "
            "(JSON and envelope), map (rows to facts), apply (store writes and progress rows), "
            "dirty (dirty-ELP tracking), store_commit, dead_letters (dead-letter topic and "
            "entities), offset_commit, other (the loop's own bookkeeping).",
            ["stage"],
            namespace=NAMESPACE,
            registry=registry,
            buckets=APPLY_BUCKETS,
        )
        for stage in INGEST_STAGES:
            self.ingest_stage_seconds.labels(stage)
        self.store_unavailable = Counter(
            "store_unavailable",
            "Times a batch could not be applied because the state store was unreachable.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "consumer_lag_messages",
            "Messages not yet consumed, by topic and partition (partitions assigned to this process).",
            ["topic", "partition"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.newest_fact_timestamp = Gauge(
            "newest_fact_timestamp_seconds",
            "Source timestamp of the newest change this process consumed since it started, by topic.",
            ["topic"],
            namespace=NAMESPACE,
            registry=registry,
        )

        # -- detectors ----------------------------------------------------------------------
        self.detector_run_seconds = Histogram(
            "detector_run_seconds",
            "Duration of one detector pass, by detector and moment (ahead, after_run, daily).",
            ["detector", "moment"],
            namespace=NAMESPACE,
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.state_load_seconds = Histogram(
            "state_load_seconds",
            "Time to read the state store into facts for one pass, by scope: the whole state "
            "(after-run and daily passes, one load when both are due), the dirty ELPs' "
            "neighbourhood (ahead passes), the newest rows (continuous passes).",
            ["scope"],
            namespace=NAMESPACE,
            registry=registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.detector_failures = Counter(
            "detector_failures",
            "Detector passes that raised an error (the detector's alerts are left unchanged).",
            ["detector", "moment"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.findings = Counter(
            "findings",
            "Findings produced, by detector.",
            ["detector"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.detection_last_pass = Gauge(
            "detection_last_pass_timestamp_seconds",
            "When the detection loop last completed a cycle (dirty ELPs, after-run pass, delivery).",
            namespace=NAMESPACE,
            registry=registry,
        )

        # -- coordination of several workers (issue 14) -----------------------------------
        self.lease_held = Gauge(
            "detection_lease_held",
            "1 while this worker holds the detection lease (runs the scheduled passes), else 0.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.lease_handovers = Counter(
            "detection_lease_handovers",
            "Times this worker took the detection lease over from another (expired) holder.",
            namespace=NAMESPACE,
            registry=registry,
        )

        # -- alerts and notifications ------------------------------------------------------
        self.alerts = Gauge(
            "alerts",
            "Alerts in the store, by status, detector and severity "
            "(by composante and phase: ecampus_monitor_composante_alerts).",
            ["status", "detector", "severity"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.emails_sent = Counter(
            "emails_sent",
            "Notification emails accepted by the SMTP server.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.digests_queued = Counter(
            "digests_queued",
            "Daily digest emails queued in the outbox (one per recipient per day).",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.alertmanager_push_failures = Counter(
            "alertmanager_push_failures",
            "Pushes to Alertmanager that failed (retried at the next push interval).",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.emails_failed = Counter(
            "emails_failed",
            "Failed SMTP attempts (the message stays in the outbox and is retried).",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.emails_gave_up = Counter(
            "emails_gave_up",
            "Notifications given up: every recipient refused for good (5xx) or for longer than "
            "smtp.retry_max_age_days (outbox status failed).",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.email_recipients_given_up = Counter(
            "email_recipients_given_up",
            "Recipients given up: refused for good (5xx), or temporarily for longer than "
            "smtp.retry_max_age_days (`ecampus-monitor outbox retry` re-queues them).",
            namespace=NAMESPACE,
            registry=registry,
        )

        # -- source poller and reconciliation (monitor.sources) -----------------------------
        self.source_poll_events = Counter(
            "source_poll_events",
            "Change events the source poller published, by topic and op (r, c, u, d).",
            ["topic", "op"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_poll_rows = Gauge(
            "source_poll_rows",
            "Rows the source poller read from a table in its last pass, by topic.",
            ["topic"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_poll_seconds = Gauge(
            "source_poll_seconds",
            "Duration of the source poller's last pass over a source (refer, moodle).",
            ["source"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_poll_last_success = Gauge(
            "source_poll_last_success_timestamp_seconds",
            "When the source poller last finished a pass over a source.",
            ["source"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_drift_rows = Gauge(
            "source_drift_rows",
            "Rows in which the state store differs from its source table at the last "
            "reconciliation, by topic and kind (missing, extra, different).",
            ["topic", "kind"],
            namespace=NAMESPACE,
            registry=registry,
        )
