"""The three dashboards of ecampus-monitor: CEMU overview, one composante, the pipeline.

Store-derived metrics are the same on every worker: panels take ``max`` over
workers (or a recording rule that does) before summing over labels.
"""

from __future__ import annotations

from scripts.grafana_panels import (
    Board,
    Json,
    bargauge,
    label_variable,
    query,
    stat,
    table,
    timeseries,
    value_mapping,
)

ALERT_KEYS = "composante, detector, severity, status, phase"
RED, ORANGE, GREEN = "red", "orange", "green"
HOUR = 3600


def _one_per_alert_group(selector: str) -> str:
    """Store-derived alert counts for ``selector``, one series per label set (not per worker)."""
    return f"max by ({ALERT_KEYS}) (ecampus_monitor_composante_alerts{selector})"


def predicted_selector(extra: str = "") -> str:
    """Alerts about damage tonight's run will do (``extra``: more matchers, comma-terminated)."""
    return "{" + extra + 'status=~"open|acknowledged", phase="predicted"}'


def overview() -> Json:
    board = Board(
        "ecm-overview",
        "eCampus monitor: CEMU overview",
        "Health of the pipeline and of last night's lmsjonction run, open alerts, trend over weeks.",
    )
    board.row("Pipeline health")
    board.add(
        stat(
            "Workers up",
            [query('sum(up{job="ecampus-monitor"})')],
            description="Processes of the ecampus-monitor scrape job answering.",
            steps=[(None, RED), (1, GREEN)],
        ),
        width=3,
        height=5,
    )
    board.add(
        stat(
            "Monitor alerts firing",
            [
                query(
                    'count(ALERTS{alertstate="firing", alertname=~"EcampusMonitor.*"}) or vector(0)'
                )
            ],
            description="Alerting rules on the monitor's own health that are firing now.",
            steps=[(None, GREEN), (1, RED)],
        ),
        width=3,
        height=5,
    )
    board.add(
        stat(
            "Events / s",
            [query("ecampus_monitor:events_consumed:rate5m")],
            description="Change events consumed from every topic, 5-minute rate.",
            unit="ops",
        ),
        width=3,
        height=5,
    )
    board.add(
        stat(
            "Consumer lag",
            [query("ecampus_monitor:consumer_lag_messages:sum")],
            description="Messages published but not yet consumed, all topics.",
            steps=[(None, GREEN), (1000, ORANGE), (100000, RED)],
        ),
        width=3,
        height=5,
    )
    board.add(
        stat(
            "Newest change, by source",
            [query("source:ecampus_monitor_state_newest_change_age_seconds:min", "{{source}}")],
            description="Age of the newest change applied from each source system.",
            unit="s",
            steps=[(None, GREEN), (2 * HOUR, ORANGE), (24 * HOUR, RED)],
        ),
        width=5,
        height=5,
    )
    board.add(
        stat(
            "Dead-lettered (24 h)",
            [query("sum(increase(ecampus_monitor_events_dead_lettered_total[24h])) or vector(0)")],
            description="Messages that could not be decoded or validated.",
            steps=[(None, GREEN), (1, ORANGE)],
        ),
        width=3,
        height=5,
    )
    board.add(
        stat(
            "Oldest unsent email",
            [query("max(ecampus_monitor_outbox_oldest_pending_age_seconds)")],
            description="Age of the oldest notification still in the outbox (0: none waiting).",
            unit="s",
            steps=[(None, GREEN), (HOUR, RED)],
        ),
        width=4,
        height=5,
    )

    board.row("Last night's run")
    board.add(
        stat(
            "Last run started",
            [query("max(ecampus_monitor_sync_run_last_started_timestamp_seconds) * 1000")],
            description="Start of the newest lmsjonction run, finished or not.",
            unit="dateTimeFromNow",
        ),
        width=3,
        height=6,
    )
    board.add(
        stat(
            "Last run finished",
            [query("max(ecampus_monitor_sync_run_last_finished_timestamp_seconds) * 1000")],
            description="End of the last finished lmsjonction run.",
            unit="dateTimeFromNow",
        ),
        width=3,
        height=6,
    )
    board.add(
        stat(
            "Result",
            [query("max(ecampus_monitor_sync_run_last_success)")],
            description="Status the last finished run reported.",
            mappings=[value_mapping(1, "success", GREEN), value_mapping(0, "failed", RED)],
        ),
        width=3,
        height=6,
    )
    board.add(
        stat(
            "Duration",
            [query("max(ecampus_monitor_sync_run_last_duration_seconds)")],
            unit="s",
        ),
        width=3,
        height=6,
    )
    board.add(
        bargauge(
            "Courses changed by the run",
            [query("max by (action) (ecampus_monitor_sync_run_last_courses)", "{{action}}")],
        ),
        width=7,
        height=6,
    )
    board.add(
        table(
            "Warnings and errors by code",
            'sort_desc(max by (level, code) (ecampus_monitor_sync_run_last_messages{level!="info"}))',
            description="Lines of the last run's report, by level and lmsjonction code.",
        ),
        width=8,
        height=6,
    )

    board.row("Open alerts")
    board.add(
        stat(
            "Open alerts",
            [query("ecampus_monitor:composante_alerts_open:sum or vector(0)")],
            description="Alerts open and not yet acknowledged.",
            steps=[(None, GREEN), (1, ORANGE)],
        ),
        width=4,
        height=4,
    )
    board.add(
        stat(
            "Predicted for tonight",
            [
                query(
                    f"sum({_one_per_alert_group(predicted_selector())}) or vector(0)",
                )
            ],
            description="Damage tonight's run will do unless someone acts today (phase predicted).",
            steps=[(None, GREEN), (1, RED)],
        ),
        width=4,
        height=4,
    )
    board.add(
        stat(
            "People affected",
            [
                query(
                    f"sum(max by ({ALERT_KEYS}) "
                    '(ecampus_monitor_composante_alerts_affected{status="open"})) or vector(0)'
                )
            ],
            description="Sum of the open alerts' affected counts (students and teachers losing access).",
        ),
        width=4,
        height=4,
    )
    board.add(
        stat(
            "Acknowledged",
            [
                query(
                    'sum(composante_status:ecampus_monitor_composante_alerts:sum{status="acknowledged"})'
                    " or vector(0)"
                )
            ],
            description="Alerts an operator has taken in hand.",
        ),
        width=4,
        height=4,
    )
    board.add(
        stat(
            "Pending the next run",
            [
                query(
                    'sum(composante_status:ecampus_monitor_composante_alerts:sum{status="pending"})'
                    " or vector(0)"
                )
            ],
            description="Differences tonight's run should settle (rule R9): never emailed.",
        ),
        width=4,
        height=4,
    )
    board.add(
        stat(
            "Resolved (all time)",
            [
                query(
                    'sum(composante_status:ecampus_monitor_composante_alerts:sum{status="resolved"})'
                    " or vector(0)"
                )
            ],
        ),
        width=4,
        height=4,
    )
    board.add(
        bargauge(
            "Open alerts by detector",
            [
                query(
                    "sort_desc(detector:ecampus_monitor_composante_alerts_open:sum)", "{{detector}}"
                )
            ],
        ),
        width=8,
    )
    board.add(
        bargauge(
            "Open alerts by composante",
            [
                query(
                    "sort_desc(composante:ecampus_monitor_composante_alerts_open:sum)",
                    "{{composante}}",
                )
            ],
        ),
        width=8,
    )
    board.add(
        table(
            "Open alerts by composante, detector and severity",
            "sort_desc(composante_detector_severity:ecampus_monitor_composante_alerts_open:sum)",
        ),
        width=8,
    )

    board.row("Trend over weeks")
    board.add(
        timeseries(
            "Open alerts by detector, over the weeks",
            [query("detector:ecampus_monitor_composante_alerts_open:sum", "{{detector}}")],
            trend=True,
            stacked=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "New alerts per day by detector",
            [
                query(
                    "sum by (detector) (composante_detector:ecampus_monitor_alert_episodes:increase1d)",
                    "{{detector}}",
                )
            ],
            description="Alert episodes (new or reopened) over the previous 24 hours.",
            trend=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Alerts by status",
            [
                query(
                    "sum by (status) (composante_status:ecampus_monitor_composante_alerts:sum)",
                    "{{status}}",
                )
            ],
            trend=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Courses changed by each night's run",
            [query("max by (action) (ecampus_monitor_sync_run_last_courses)", "{{action}}")],
            trend=True,
        ),
        width=12,
    )
    return board.to_json()


def composante() -> Json:
    here = 'composante="$composante"'
    board = Board(
        "ecm-composante",
        "eCampus monitor: one composante",
        "Alerts of one composante: what is open, what tonight's run will do, the trend.",
        variables=[label_variable("composante", "Composante", "ecampus_monitor_composante_alerts")],
        time_from="now-7d",
    )
    board.row("Now")
    board.add(
        stat(
            "Open alerts",
            [
                query(
                    f"sum(composante:ecampus_monitor_composante_alerts_open:sum{{{here}}}) or vector(0)"
                )
            ],
            steps=[(None, GREEN), (1, ORANGE)],
        ),
        width=6,
        height=4,
    )
    board.add(
        stat(
            "Predicted for tonight",
            [
                query(
                    f"sum({_one_per_alert_group(predicted_selector(here + ', '))}) or vector(0)",
                )
            ],
            description="Damage tonight's run will do unless someone acts today.",
            steps=[(None, GREEN), (1, RED)],
        ),
        width=6,
        height=4,
    )
    board.add(
        stat(
            "People affected",
            [
                query(
                    f"sum(max by ({ALERT_KEYS}) (ecampus_monitor_composante_alerts_affected"
                    f'{{{here}, status="open"}})) or vector(0)'
                )
            ],
            description="Sum of the open alerts' affected counts.",
        ),
        width=6,
        height=4,
    )
    board.add(
        stat(
            "Acknowledged",
            [
                query(
                    f"sum(composante_status:ecampus_monitor_composante_alerts:sum"
                    f'{{{here}, status="acknowledged"}}) or vector(0)'
                )
            ],
        ),
        width=6,
        height=4,
    )
    board.add(
        bargauge(
            "Open alerts by detector and severity",
            [
                query(
                    "sort_desc(composante_detector_severity:ecampus_monitor_composante_alerts_open:sum"
                    f"{{{here}}})",
                    "{{detector}} ({{severity}})",
                )
            ],
        ),
        width=10,
    )
    board.add(
        table(
            "Alerts by detector, status and phase",
            "sort_desc(max by (detector, severity, status, phase) "
            f"(ecampus_monitor_composante_alerts{{{here}}}))",
        ),
        width=14,
    )
    board.row("Over the weeks")
    board.add(
        timeseries(
            "Open alerts by detector",
            [
                query(
                    "sum by (detector) "
                    f"(composante_detector_severity:ecampus_monitor_composante_alerts_open:sum{{{here}}})",
                    "{{detector}}",
                )
            ],
            trend=True,
            stacked=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "New alerts per day by detector",
            [
                query(
                    f"composante_detector:ecampus_monitor_alert_episodes:increase1d{{{here}}}",
                    "{{detector}}",
                )
            ],
            trend=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Alerts by status",
            [
                query(
                    f"composante_status:ecampus_monitor_composante_alerts:sum{{{here}}}",
                    "{{status}}",
                )
            ],
            trend=True,
        ),
        width=24,
    )
    return board.to_json()


def _quantiles(histogram: str, by: str = "") -> list[Json]:
    keys = f"{by}, le" if by else "le"
    legend_prefix = "{{" + by + "}} " if by else ""
    return [
        query(
            f"histogram_quantile({q}, sum by ({keys}) (rate({histogram}_bucket[$__rate_interval])))",
            f"{legend_prefix}p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def pipeline() -> Json:
    board = Board(
        "ecm-pipeline",
        "eCampus monitor: pipeline",
        "Ingest throughput, lag and latency, errors, detectors and notifications.",
        time_from="now-6h",
    )
    board.row("Throughput")
    board.add(
        timeseries(
            "Events consumed / s by topic",
            [query("topic:ecampus_monitor_events_consumed:rate5m", "{{topic}}")],
            unit="ops",
            stacked=True,
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Batch size",
            _quantiles("ecampus_monitor_batch_size_events"),
            description="Events per applied batch (one state-store transaction).",
        ),
        width=6,
    )
    board.add(
        timeseries(
            "Rows in the state store",
            [query("max by (entity) (ecampus_monitor_state_rows)", "{{entity}}")],
            description="Live rows per canonical entity.",
        ),
        width=6,
    )
    board.row("Lag and latency")
    board.add(
        timeseries(
            "Consumer lag by topic",
            [query("topic:ecampus_monitor_consumer_lag_messages:sum", "{{topic}}")],
            stacked=True,
        ),
        width=8,
    )
    board.add(
        table(
            "Consumer lag by partition",
            "sort_desc(max by (topic, partition) (ecampus_monitor_consumer_lag_messages))",
        ),
        width=8,
    )
    board.add(
        timeseries(
            "Age of the newest change by topic",
            [query("topic:ecampus_monitor_state_newest_change_age_seconds:min", "{{topic}}")],
            unit="s",
        ),
        width=8,
    )
    board.add(
        timeseries(
            "Batch apply time",
            _quantiles("ecampus_monitor_batch_apply_seconds"),
            description="One batch applied to the state store in one transaction.",
            unit="s",
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Ingest time by stage",
            [
                query(
                    "sum by (stage) (rate(ecampus_monitor_ingest_stage_seconds_sum[5m]))",
                    "{{stage}}",
                )
            ],
            description="Seconds per second the ingest loop spends in each stage: poll, "
            "decode, map, apply, dirty (dirty-ELP tracking), store and offset commits.",
            unit="s",
        ),
        width=12,
    )
    board.add(
        timeseries(
            "Delay from the source to the store (p95)",
            [query("topic:ecampus_monitor_apply_delay_seconds:p95_5m", "{{topic}}")],
            description="From the change in REFER, ADE or Moodle to its commit in the state store.",
            unit="s",
        ),
        width=12,
    )
    board.row("Errors")
    board.add(
        timeseries(
            "Dead-lettered per hour",
            [
                query(
                    "topic_reason:ecampus_monitor_events_dead_lettered:increase1h",
                    "{{topic}}: {{reason}}",
                ),
                query(
                    "sum by (kind) (increase(ecampus_monitor_events_ignored_total[1h]))",
                    "ignored: {{kind}}",
                ),
            ],
            description="Dead-lettered messages, and messages of Debezium's own topics "
            "(heartbeats, schema changes, transactions) read and ignored.",
            bars=True,
        ),
        width=8,
    )
    board.add(
        timeseries(
            "State store unavailable",
            [query("sum(increase(ecampus_monitor_store_unavailable_total[$__rate_interval]))")],
            description="Batches refused because the state store was unreachable (retried).",
            bars=True,
        ),
        width=8,
    )
    board.add(
        stat(
            "State metrics read",
            [
                query("min(ecampus_monitor_state_collector_up)", "up"),
                query("max(ecampus_monitor_state_collector_duration_seconds)", "duration (s)"),
            ],
            description="Whether the metrics read from the state store could be read, and how long it took.",
        ),
        width=8,
    )
    board.row("Detectors")
    board.add(
        timeseries(
            "Detector pass duration (p95)",
            [query("detector:ecampus_monitor_detector_run_seconds:p95_5m", "{{detector}}")],
            unit="s",
        ),
        width=8,
    )
    board.add(
        timeseries(
            "Detector passes / min by moment",
            [
                query(
                    "sum by (moment) (rate(ecampus_monitor_detector_run_seconds_count[$__rate_interval])) * 60",
                    "{{moment}}",
                ),
                query(
                    "(sum(rate(ecampus_monitor_detector_failures_total[$__rate_interval])) * 60)"
                    " or vector(0)",
                    "failed",
                ),
            ],
        ),
        width=8,
    )
    board.add(
        timeseries(
            "Findings per hour by detector",
            [query("detector:ecampus_monitor_findings:increase1h", "{{detector}}")],
        ),
        width=8,
    )
    board.add(
        timeseries(
            "State loads (p95 duration) by scope",
            [
                query(
                    "histogram_quantile(0.95, sum by (scope, le)"
                    " (rate(ecampus_monitor_state_load_seconds_bucket[$__rate_interval])))",
                    "{{scope}}",
                )
            ],
            unit="s",
            description="Time to read the state store into facts for one pass: the whole "
            "state (after-run and daily passes), the dirty ELPs' neighbourhood (ahead "
            "passes), the newest rows (continuous passes).",
        ),
        width=8,
    )
    board.row("Notifications and process")
    board.add(
        timeseries(
            "Emails",
            [
                query("sum(increase(ecampus_monitor_emails_sent_total[$__rate_interval]))", "sent"),
                query(
                    "sum(increase(ecampus_monitor_emails_failed_total[$__rate_interval]))", "failed"
                ),
                query(
                    "sum(increase(ecampus_monitor_emails_gave_up_total[$__rate_interval]))",
                    "gave up",
                ),
                query(
                    "sum(increase(ecampus_monitor_digests_queued_total[$__rate_interval]))",
                    "digests queued",
                ),
                query(
                    "sum(increase(ecampus_monitor_alertmanager_push_failures_total[$__rate_interval]))",
                    "Alertmanager push failed",
                ),
            ],
            bars=True,
        ),
        width=8,
    )
    board.add(
        timeseries(
            "Outbox",
            [
                query(
                    'status:ecampus_monitor_outbox_notifications:max{status!="sent"}', "{{status}}"
                )
            ],
            description="Notifications not sent yet (queued, sending) and given up (failed).",
        ),
        width=8,
    )
    board.add(
        stat(
            "Since the last detection cycle",
            [query("time() - max(ecampus_monitor_detection_last_pass_timestamp_seconds)")],
            unit="s",
            steps=[(None, GREEN), (600, RED)],
        ),
        width=4,
    )
    board.add(
        table("Versions running", "count by (version) (ecampus_monitor_build_info)"),
        width=4,
    )
    return board.to_json()


DASHBOARDS = {
    "cemu-overview.json": overview,
    "composante.json": composante,
    "pipeline.json": pipeline,
}
