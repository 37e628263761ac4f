"""The weekly reconciliation pass of the daemon: once per ISO week, after ``reconcile_time``
on ``reconcile_weekday`` (local time), when ``source.urls`` names sources.

It runs in its own thread (a pass reads every configured table, minutes at
Unicaen scale) and records the week done in ``pipeline_cursor``, so a restart
does not run it twice and several workers sharing a store agree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from monitor.config import Settings
from monitor.metrics import Metrics
from monitor.pipeline import _cursor, _set_cursor
from monitor.sources import reconcile

log = logging.getLogger(__name__)

CURSOR = "source_reconcile_week"
CHECK_EVERY_SECONDS = 60.0


class WeeklyReconciliation:
    """Reconcile the configured sources with the store, once a week."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.metrics = metrics
        self.clock = clock

    def week_due(self, now: datetime) -> str | None:
        """The ISO week to reconcile now, or None when not due (wrong day, too early, done)."""
        poller = self.settings.source
        local = now.astimezone(ZoneInfo(self.settings.rules.timezone))
        if local.weekday() != poller.reconcile_weekday or local.time() < poller.reconcile_time:
            return None
        year, week, _ = local.isocalendar()
        label = f"{year}-W{week:02d}"
        with self.engine.connect() as conn:
            return None if _cursor(conn, CURSOR) == label else label

    def run_if_due(self) -> list[reconcile.Drift] | None:
        now = self.clock()
        week = self.week_due(now)
        if week is None:
            return None
        urls = {name: url.get_secret_value() for name, url in self.settings.source.urls.items()}
        drifts = reconcile.reconcile_sources(self.settings, self.engine, urls)
        reconcile.record(
            self.engine,
            drifts,
            now=now,
            metrics=self.metrics,
            notifier=reconcile.notifier_for(self.settings),
        )
        with self.engine.begin() as conn:
            _set_cursor(conn, CURSOR, week, now)
        log.info(
            "weekly reconciliation %s: %d table(s), %d drifting",
            week,
            len(drifts),
            sum(1 for d in drifts if d.total),
        )
        return drifts

    def loop(self, stop: threading.Event) -> None:
        """Until ``stop``: a failed pass (source down) is logged and tried again next check."""
        while not stop.is_set():
            try:
                self.run_if_due()
            except Exception as error:  # a source outage must not stop the daemon
                log.warning("weekly reconciliation failed, retried: %s", str(error).split("\n")[0])
            stop.wait(CHECK_EVERY_SECONDS)
