"""Run the detectors at their moments and reconcile their findings into alerts.

- ahead of the night: the ELPs marked dirty by ingested batches (``dirty_elp``),
  drained in the transaction that reconciles their findings, so none is lost;
- after a run: when a sync run finished since the last pass (cursor
  ``after_run``), every "after the run" detector over the whole state, and
  alerts whose condition is gone are resolved.
Then the outbox is delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from alerts.notify.alertmanager import AlertmanagerPusher, AlertmanagerUnavailable
from alerts.notify.digest import DigestJob
from alerts.notify.given_up import GivenUpCheck
from alerts.notify.outbox import Notifier
from alerts.notify.smtp import SmtpSender
from alerts.reconcile import reconcile
from alerts.repository import count_by_status, relabel_causes
from detectors.base import Detector, DetectorConfig, Moment
from detectors.findings import Finding
from detectors.known import enrolments_lost
from detectors.registry import DETECTORS
from detectors.state import FactSet
from monitor.cause_catalogue import CAUSES
from monitor.coordination.dirty_claims import DirtyClaims
from monitor.coordination.lease import worker_identity
from monitor.metrics import Metrics
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.offer import ElpOffer
from monitor.store.schema import fact_tables, pipeline_cursor
from monitor.store.snapshot import load_facts, load_health_facts

log = logging.getLogger(__name__)

AFTER_RUN_CURSOR = "after_run"
DAILY_CURSOR = "daily"
DIRTY_BATCH = 2000


@dataclass
class PassReport:
    """What one pass did, for logs, the demo and tests."""

    moment: Moment
    scope_size: int | None
    findings: int = 0
    opened: int = 0
    resolved: int = 0
    queued: int = 0
    detectors: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    offer_first: bool = False
    """An ahead pass over ELPs whose own row changed, taken before the others."""


@dataclass
class WholeStateReports:
    """The passes over the whole state one call ran (None: not due, or not asked for)."""

    after_run: PassReport | None = None
    daily: PassReport | None = None


class DetectionPipeline:
    """Detectors, reconciliation and delivery over one state store."""

    def __init__(
        self,
        engine: Engine,
        *,
        notifier: Notifier,
        sender: SmtpSender | None,
        metrics: Metrics,
        config: DetectorConfig,
        daily_at: time = time(6, 30),
        continuous_every: timedelta = timedelta(minutes=1),
        digests: DigestJob | None = None,
        alertmanager: AlertmanagerPusher | None = None,
        claims: DirtyClaims | None = None,
        moodle: MoodleSettings | None = None,
        detectors: Sequence[Detector] = DETECTORS,
    ) -> None:
        self.engine = engine
        self.detectors = tuple(detectors)  # the registry's, or a test's own
        self.moodle = moodle  # how Moodle's rows resolve (None: the defaults)
        # Several workers (issue 14): dirty ELPs are claimed, and every pass's transaction
        # ends with ``fence`` (the detection lease still ours, else LeaseLost: rolled back).
        self.claims = claims or DirtyClaims(engine, holder=worker_identity(), ttl_seconds=15)
        self.fence: Callable[[Connection], None] = lambda _conn: None
        self.digests = digests
        self.alertmanager = alertmanager
        self.notifier = notifier
        self.sender = sender
        self.given_up = GivenUpCheck(notifier)
        self.metrics = metrics
        self.config = config
        self.daily_at = daily_at
        self.continuous_every = continuous_every
        self._next_continuous: datetime | None = None
        self._offer = ElpOffer()  # the ELPs every ahead pass needs, read again when they change

    def warm_up(self) -> None:
        """Read the ELP offer once, at start, so the first "ahead" pass is as quick as the next;
        write today's cause labels on the stored alerts (rows older than the label column,
        labels reworded since: every worker does it, the second finds nothing to change)."""
        with self.engine.begin() as conn:
            relabelled = relabel_causes(conn, CAUSES.labels())
        if relabelled:
            log.info("cause labels written on %d stored alerts", relabelled)
        with self.engine.connect() as conn:
            self._offer.read(conn)

    def run_ahead(self, now: datetime) -> PassReport | None:
        """One pass over a batch of dirty ELPs; None when nothing was dirty."""
        claimed = self.claims.claim(DIRTY_BATCH)
        if not claimed:
            return None
        codes = [c.cod_elp for c in claimed]
        try:
            with self.engine.begin() as conn:
                with self.metrics.state_load_seconds.labels("dirty").time():
                    facts = load_facts(conn, codes, offer=self._offer, moodle=self.moodle)
                report = self._detect_and_reconcile(conn, facts, "ahead", codes, now)
                report.offer_first = all(c.offer_changed for c in claimed)
                self.claims.consume(conn, claimed)
                self.fence(conn)
        except BaseException:
            self.claims.release(claimed)
            raise
        return report

    def pending_after_run(self) -> str | None:
        """The finished run whose after-run pass has not been done yet, if any."""
        with self.engine.connect() as conn:
            latest = _last_finished_run_id(conn)
            return None if latest == _cursor(conn, AFTER_RUN_CURSOR) else latest

    def daily_due(self, now: datetime) -> str | None:
        """The local day whose daily pass is due and not done yet, if any."""
        day = self._today(now)
        if day is None:
            return None
        with self.engine.connect() as conn:
            return None if _cursor(conn, DAILY_CURSOR) == day else day

    def run_after_run(self, now: datetime, run_id: str | None = None) -> PassReport | None:
        """The after-the-run pass, once per finished sync run; None when there is no new one.

        With ``run_id``, only if that is still the latest finished run (the caller
        checked that the store holds everything published up to its report).
        """
        return self.run_whole_state(now, run_id=run_id, daily=False).after_run

    def run_daily(self, now: datetime) -> PassReport | None:
        """The daily pass, once per local day after ``daily_at``; None when not due."""
        return self.run_whole_state(now, after_run=False).daily

    def run_whole_state(
        self,
        now: datetime,
        *,
        run_id: str | None = None,
        after_run: bool = True,
        daily: bool = True,
    ) -> WholeStateReports:
        """The after-run and the daily pass, those asked for that are due, over one load.

        Both read the whole state: when both are due in one cycle (a start in the
        morning, a backlog read past ``daily_at``, a simulated clock), the
        state is loaded once and both passes run in one transaction; each moves its
        cursor as when run alone. Daily detectors do not read the deleted
        enrolments the after-run pass loads (only ``enrolments_lost`` does).
        """
        reports = WholeStateReports()
        day = self._today(now) if daily else None
        with self.engine.begin() as conn:
            run = _last_finished_run_id(conn) if after_run else None
            if run is not None and (
                run == _cursor(conn, AFTER_RUN_CURSOR) or (run_id is not None and run != run_id)
            ):
                run = None
            if day is not None and _cursor(conn, DAILY_CURSOR) == day:
                day = None
            if run is None and day is None:
                return reports
            since = None
            if run is not None:
                since = now - timedelta(days=enrolments_lost.lookback_days(self.config))
            with self.metrics.state_load_seconds.labels("whole").time():
                facts = load_facts(conn, deleted_since=since, moodle=self.moodle)
            if run is not None:
                # A failed run gets its pass too (run health), though it settles nothing (R9).
                reports.after_run = self._detect_and_reconcile(conn, facts, "after_run", None, now)
                _set_cursor(conn, AFTER_RUN_CURSOR, run, now)
            if day is not None:
                reports.daily = self._detect_and_reconcile(conn, facts, "daily", None, now)
                _set_cursor(conn, DAILY_CURSOR, day, now)
            self.fence(conn)
        if reports.after_run is not None:
            log.info("after-run pass for run %s: %s", run, reports.after_run)
        if reports.daily is not None:
            log.info("daily pass of %s: %s", day, reports.daily)
        return reports

    def _today(self, now: datetime) -> str | None:
        """The local day if its daily pass may run at ``now`` (``daily_at`` passed), else None."""
        local = now.astimezone(ZoneInfo(self.config.timezone))
        return None if local.time() < self.daily_at else local.date().isoformat()

    def run_continuous(self, now: datetime) -> PassReport | None:
        """The continuous pass (run health, silent sources) every ``continuous_every``."""
        if self._next_continuous is not None and now < self._next_continuous:
            return None
        self._next_continuous = now + self.continuous_every
        with self.engine.begin() as conn:
            with self.metrics.state_load_seconds.labels("health").time():
                facts = load_health_facts(conn)
            report = self._detect_and_reconcile(conn, facts, "continuous", None, now)
            self.fence(conn)
            return report

    def deliver(self, now: datetime) -> None:
        """Queue the day's digests when due, push to Alertmanager when due, send the outbox."""
        if self.digests is not None:
            self.metrics.digests_queued.inc(self.digests.run(self.engine, now))
        if self.alertmanager is not None and self.alertmanager.due(now):
            try:
                with self.engine.connect() as conn:
                    self.alertmanager.push(conn, now)
            except AlertmanagerUnavailable as error:
                self.metrics.alertmanager_push_failures.inc()
                log.warning("alertmanager push failed, retried next interval: %s", error)
        if self.sender is None:
            return
        outcome = self.sender.deliver_due(self.engine, now)
        self.metrics.emails_sent.inc(outcome.sent)
        self.metrics.emails_failed.inc(outcome.failed)
        self.metrics.emails_gave_up.inc(outcome.gave_up)
        self.metrics.email_recipients_given_up.inc(outcome.refused)
        # Given-up notifications are a CEMU alert (notifications_failed) until re-queued.
        self.given_up.run(self.engine, now)

    def refresh_gauges(self) -> None:
        with self.engine.connect() as conn:
            counts = count_by_status(conn)
        self.metrics.alerts.clear()
        for status, detector, severity, count in counts:
            self.metrics.alerts.labels(status, detector, severity).set(count)

    def _detect_and_reconcile(
        self,
        conn: Connection,
        facts: FactSet,
        moment: Moment,
        scope: Sequence[str] | None,
        now: datetime,
    ) -> PassReport:
        report = PassReport(moment=moment, scope_size=None if scope is None else len(scope))
        findings: list[Finding] = []
        succeeded: list[str] = []
        for detector in (d for d in self.detectors if moment in d.moments):
            found = self._run_one(detector, facts, moment, scope, now)
            if found is None:
                report.failed.append(detector.name)
                continue
            succeeded.append(detector.name)
            report.detectors[detector.name] = len(found)
            findings.extend(found)
        outcome = reconcile(
            conn,
            findings,
            # A detector that failed reconciles nothing: its alerts stay as they are.
            detectors=succeeded,
            subjects=scope,
            now=now,
            notifier=self.notifier,
        )
        report.findings = len(findings)
        report.opened = outcome.opened + outcome.reopened
        report.resolved = outcome.resolved
        report.queued = outcome.queued
        return report

    def _run_one(
        self,
        detector: Detector,
        facts: FactSet,
        moment: Moment,
        scope: Sequence[str] | None,
        now: datetime,
    ) -> list[Finding] | None:
        """The detector's findings, or None when it failed (logged and counted, never fatal)."""
        started = perf_counter()
        try:
            # Each finding gets its cause's label; a cause the detector does not declare
            # fails the detector like any error (UndeclaredCause), its alerts unchanged.
            found = detector.labelled(
                detector.detect(facts, now=now, scope=scope, config=self.config)
            )
        except Exception as error:
            # Unexpected data must not stop the daemon nor the other detectors. The log
            # names the error's type and place only: its message may quote facts.
            self.metrics.detector_failures.labels(detector.name, moment).inc()
            log.error(
                "detector %s failed in its %s pass (%s); its alerts are left unchanged",
                detector.name,
                moment,
                type(error).__name__,
            )
            log.debug("detector %s failure", detector.name, exc_info=True)
            return None
        self.metrics.detector_run_seconds.labels(detector.name, moment).observe(
            perf_counter() - started
        )
        self.metrics.findings.labels(detector.name).inc(len(found))
        return found


def _last_finished_run_id(conn: Connection) -> str | None:
    runs = fact_tables["sync_run"]
    return conn.execute(
        select(runs.c.run_id)
        .where(runs.c.finished_at.is_not(None), runs.c.status != "running")
        .where(runs.c.tombstone.is_(False))
        .order_by(runs.c.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def read_cursor(engine: Engine, name: str) -> str | None:
    """A pipeline cursor's value (e.g. the last run the after-run pass handled)."""
    with engine.connect() as conn:
        return _cursor(conn, name)


def _cursor(conn: Connection, name: str) -> str | None:
    return conn.execute(
        select(pipeline_cursor.c.value).where(pipeline_cursor.c.name == name)
    ).scalar_one_or_none()


def _set_cursor(conn: Connection, name: str, value: str, now: datetime) -> None:
    naive = now.astimezone(UTC).replace(tzinfo=None)
    updated = conn.execute(
        pipeline_cursor.update()
        .where(pipeline_cursor.c.name == name)
        .values(value=value, updated_at=naive)
    )
    if updated.rowcount == 0:
        conn.execute(pipeline_cursor.insert().values(name=name, value=value, updated_at=naive))


def fact_counts(conn: Connection) -> dict[str, int]:
    """Live rows per entity (for ``status`` output and the demo)."""
    return {
        name: conn.execute(
            select(func.count()).select_from(table).where(table.c.tombstone.is_(False))
        ).scalar_one()
        for name, table in fact_tables.items()
    }
