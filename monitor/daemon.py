"""The daemon: ingest, detectors, alerts, API and metrics in one process.

Three threads: the ingest loop (Kafka -> state store), the detection loop
(woken after each applied batch, and every few seconds for delivery and the
after-run pass) and the HTTP server. SIGTERM/SIGINT set one stop event: the
ingest loop finishes its batch and commits, the others return.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, Literal, TypeVar

from kafka import TopicPartition
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from sqlalchemy import Engine, func, select

from alerts.notify.alertmanager import AlertmanagerPusher
from alerts.notify.digest import DigestJob
from alerts.notify.smtp import SmtpSender, SmtpTarget
from alerts.policy import ImmediatePrediction, NotificationPolicy
from alerts.routing import Router
from alerts.tables import outbox
from monitor.clock import Clock, as_clock, utc_now
from monitor.config import Settings
from monitor.coordination.detection import DetectionCoordinator
from monitor.coordination.ingest_watch import IngestWatch
from monitor.dead_letter_alerts import HoldingNotifier, reconcile_dead_letters
from monitor.http.api import create_app
from monitor.http.server import ApiServer
from monitor.kafka.admin import remaining
from monitor.kafka.catchup import CaughtUpGate
from monitor.kafka.ingest.backoff import Backoff
from monitor.kafka.ingest.consumer import IngestLoop
from monitor.kafka.ingest.kafka_options import client_options
from monitor.kafka.ingest.persist import is_store_outage
from monitor.metrics import Metrics
from monitor.pipeline import DIRTY_BATCH, DetectionPipeline
from monitor.readiness import Conditions
from monitor.store.db import current_revision, head_revision, make_engine
from monitor.store.schema import dirty_elp
from monitor.store.state_metrics import StateCollector

log = logging.getLogger(__name__)

DETECTION_INTERVAL_SECONDS = 2.0
MAX_DETECTION_DEFERRAL_SECONDS = 300.0
AHEAD_BUDGET_SECONDS = 10.0
"""How long one detection cycle reads a backlog of dirty ELPs before its other passes."""
JOIN_DAILY_SECONDS = 30.0
"""How long an after-run pass waits for the daily pass due with it, to share its load."""


Role = Literal["all", "worker", "api"]
T = TypeVar("T")


class StoreNotMigrated(RuntimeError):
    """The state store's schema is not at the code's revision: run ``ecampus-monitor db upgrade``."""


def notification_policy(settings: Settings) -> NotificationPolicy:
    notify = settings.notifications
    return NotificationPolicy(
        digest_time=notify.digest_time,
        timezone=settings.rules.timezone,
        immediate_severities=frozenset(notify.immediate_severities),
        immediate_predictions=tuple(
            ImmediatePrediction(detector, minimum)
            for detector, minimum in notify.immediate_predictions.items()
        ),
        reminder_after=timedelta(days=notify.reminder_after_days),
        reminder_every=timedelta(days=notify.reminder_every_days),
        flap_window=timedelta(hours=notify.flap_window_hours),
        flap_email_every=timedelta(hours=notify.flap_email_every_hours),
        digest_max_delay=timedelta(hours=notify.digest_max_delay_hours),
        digest_max_still_open=notify.digest_max_still_open,
    )


def alertmanager_pusher(settings: Settings) -> AlertmanagerPusher | None:
    pushed = settings.alertmanager
    if pushed.url is None:
        return None
    return AlertmanagerPusher(
        pushed.url,
        pushed.timeout_seconds,
        public_url=settings.http.public_url,
        interval=timedelta(seconds=pushed.push_interval_seconds),
    )


def smtp_target(settings: Settings) -> SmtpTarget:
    smtp = settings.smtp
    return SmtpTarget(
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password else None,
        starttls=smtp.starttls,
        use_ssl=smtp.use_ssl,
        sender=smtp.sender,
        timeout_seconds=smtp.timeout_seconds,
        max_attempts=smtp.max_attempts,
        retry_initial_seconds=smtp.retry_initial_seconds,
        retry_max_seconds=smtp.retry_max_seconds,
        max_age=timedelta(days=smtp.retry_max_age_days),
    )


@dataclass(frozen=True)
class Progress:
    """How far the daemon is: used by ``demo --once`` and readiness."""

    lag: int
    dirty_elps: int
    outbox_queued: int

    @property
    def idle(self) -> bool:
        return self.lag == 0 and self.dirty_elps == 0 and self.outbox_queued == 0


class Daemon:
    """One ecampus-monitor process."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry = REGISTRY,
        clock: Clock | Callable[[], datetime] = utc_now,
        engine: Engine | None = None,
        role: Role = "all",
    ) -> None:
        self.settings = settings
        self.role = role
        self.clock = as_clock(clock)
        # Every duration the daemon measures (deferral, readiness, leases, catch-up) reads this.
        monotonic = self.clock.monotonic
        self.metrics = Metrics(registry)
        self.engine = engine or make_engine(settings.store.url)
        if role in ("all", "api"):
            # Store-wide gauges (rows, alerts by composante, outbox, last run) from one process.
            registry.register(StateCollector(self.engine, self.clock))
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._cycle_done = threading.Condition()
        self._behind_since: float | None = None
        # Set by drivers of a simulated clock (the demo) while they publish a phase.
        self.detection_held = threading.Event()
        self._cycles = 0
        # Several workers share the store (issue 14): only the lease holder runs the passes.
        self.coordinator = DetectionCoordinator(
            self.engine,
            settings.coordination,
            self.metrics,
            wake=self._wake,
            ingest=IngestWatch(
                lambda: self.ingest.caught_up,
                lambda: len(self.ingest.consumer.assignment()),
                standby_after=2 * settings.kafka.session_timeout_ms / 1000,
                monotonic=monotonic,
            ),
            session_timeout_seconds=settings.kafka.session_timeout_ms / 1000,
            monotonic=monotonic,
        )
        # Outside dependencies as the threads last met them (``/readyz``, one log line each way).
        self.conditions = Conditions(monotonic)
        # When each pass waiting for a caught-up store became due (monotonic), see ``detect_once``.
        self._due_since: dict[str, float] = {}
        self._ahead_left = False  # the last cycle left dirty ELPs for the next (its budget ran out)
        router = Router.load(settings.routing.file, settings.routing.cemu_address)
        policy = notification_policy(settings)
        public_url = settings.http.public_url
        self.pipeline = DetectionPipeline(
            self.engine,
            notifier=HoldingNotifier(router, public_url, policy=policy),
            digests=(
                DigestJob(router, policy, public_url)
                if settings.notifications.digests_enabled
                else None
            ),
            alertmanager=alertmanager_pusher(settings),
            sender=SmtpSender(smtp_target(settings)) if settings.smtp.enabled else None,
            metrics=self.metrics,
            config=settings.rules.detector_config(),
            daily_at=settings.schedule.daily_time,
            continuous_every=timedelta(seconds=settings.schedule.continuous_interval_seconds),
            claims=self.coordinator.claims,
            moodle=settings.moodle,
        )
        self.pipeline.fence = self.coordinator.lease.fence
        self.ingest = IngestLoop(
            settings,
            self.engine,
            self.metrics,
            on_applied=lambda _batch: self._wake.set(),
            clock=self.clock,
            conditions=self.conditions,
        )
        self.gate = CaughtUpGate(self.ingest.catchup)
        self.api: ApiServer | None = None
        self._metrics_server: tuple[Any, threading.Thread] | None = None
        self._threads: list[threading.Thread] = []
        self._failure: BaseException | None = None

    def check_store(self) -> None:
        revision, head = self._waiting_for_store(current_revision), head_revision()
        if revision != head:
            raise StoreNotMigrated(
                f"the state store is at revision {revision or 'none'}, the code needs {head}: "
                "run `ecampus-monitor db upgrade`"
            )

    def start(self) -> None:
        self.check_store()
        works = self.role in ("all", "worker")
        if works:
            self.ingest.open()  # creates the missing topics before anyone publishes
            self._waiting_for_store(lambda _engine: self.pipeline.warm_up())
        if self.settings.metrics.port is not None:
            self._metrics_server = start_http_server(
                self.settings.metrics.port, self.settings.metrics.host, self.metrics.registry
            )
        if self.role in ("all", "api") and self.settings.http.enabled:
            app = create_app(
                settings=self.settings,
                engine=self.engine,
                metrics=self.metrics,
                readiness=self.readiness,
                readiness_reasons=self.conditions.reasons,
                clock=self.clock,
            )
            self.api = ApiServer(app, self.settings.http.host, self.settings.http.port)
            self.api.start()
        if works:
            self.coordinator.start()
            self._spawn("lease", lambda: self.coordinator.keeper.run(self.stop_event))
            self._spawn("ingest", lambda: self.ingest.run(self.stop_event))
            self._spawn("detection", self._detection_loop)
            if self.settings.source.urls:
                from monitor.sources.schedule import WeeklyReconciliation

                weekly = WeeklyReconciliation(self.settings, self.engine, self.metrics, self.clock)
                self._spawn("reconcile", lambda: weekly.loop(self.stop_event))

    def _waiting_for_store(self, read: Callable[[Engine], T]) -> T:
        """``read(engine)``, retried with backoff while the store is unreachable (a start
        during a store outage waits for it, as the running daemon does)."""
        store = self.settings.store
        backoff = Backoff(store.retry_initial_seconds, store.retry_max_seconds)
        while True:
            try:
                result = read(self.engine)
            except Exception as error:
                if not is_store_outage(error) or self.stop_event.is_set():
                    raise
                self._store_lost(error)
                self.stop_event.wait(backoff.next_delay())
                continue
            self.conditions.back("store")
            return result

    def _store_lost(self, error: BaseException) -> None:
        self.metrics.store_unavailable.inc()
        first_line = (str(error).splitlines() or [""])[0]
        self.conditions.lost("store", f"{type(error).__name__}: {first_line}")

    def _spawn(self, name: str, target: object) -> None:
        def guarded() -> None:
            try:
                target()  # type: ignore[operator]
            except BaseException as error:
                log.exception("%s thread failed; stopping the daemon", name)
                self._failure = error
                self.stop_event.set()

        thread = threading.Thread(target=guarded, name=f"ecampus-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _detection_loop(self) -> None:
        store = self.settings.store
        backoff = Backoff(store.retry_initial_seconds, store.retry_max_seconds)
        while not self.stop_event.is_set():
            self._wake.clear()
            try:
                self.coordinator.run_as_holder(self.detect_once)  # issue 14: the lease holder only
            except Exception as error:
                # A store outage is waited out: every pass reads in one transaction,
                # so none ran on a store it could not fully read; the next cycle
                # starts again from what is committed.
                if not is_store_outage(error):
                    raise
                self._store_lost(error)
                self.stop_event.wait(backoff.next_delay())
                continue
            if backoff.attempts:
                backoff.reset()
                self.conditions.back("store")
            with self._cycle_done:
                self._cycles += 1
                self._cycle_done.notify_all()
            self._wake.wait(DETECTION_INTERVAL_SECONDS)

    def ingest_settled(self) -> bool:
        """Whether the store is consistent enough to compare sources.

        While ingest reads full batches, one topic may be ahead of another (a
        snapshot, a backlog after an outage): comparing then raises alerts that
        vanish a minute later. The dirty ELPs wait in the store; after
        ``MAX_DETECTION_DEFERRAL`` of sustained load the passes run anyway.
        """
        if self.detection_held.is_set():
            return False
        # Issue 14: every worker's partitions, not only this one's; and this one's ticket.
        if self.coordinator.store_caught_up() and self.gate.holds_everything_before(0.0):
            self._behind_since = None
            return True
        if self._behind_since is None:
            self._behind_since = self.clock.monotonic()
        return self.clock.monotonic() - self._behind_since > MAX_DETECTION_DEFERRAL_SECONDS

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the detection loop has run one whole cycle begun after this call.

        For drivers of a simulated clock (the demo, tests): after the clock moves,
        the next full cycle has seen it.
        """
        with self._cycle_done:
            target = self._cycles + 2  # the cycle under way may have read the old clock
            self._wake.set()
            # ... and passes waiting for the store to catch up (after-run, daily) have run.
            if not self._cycle_done.wait_for(
                lambda: (
                    (self._cycles >= target and not self._due_since and not self._ahead_left)
                    or self.stop_event.is_set()
                ),
                timeout,
            ):
                raise TimeoutError(f"the detection loop did not cycle within {timeout:.0f} s")

    def detect_once(self) -> None:
        """Drain the dirty ELPs, run the after-run pass if a run finished, deliver the outbox.

        Passes that compare sources wait while ingest is behind (see ``ingest_settled``).
        The after-run pass of a run waits until the store holds everything published
        up to that run's report, the daily pass until it holds everything published
        before the day's pass became due (``CaughtUpGate``); their cursors move only
        after such a pass, so a pass skipped, or cut by an outage, is run later.
        """
        held = self.detection_held.is_set()
        run = self.pipeline.pending_after_run()
        day = self.pipeline.daily_due(self.clock())
        self._note_due({f"run:{run}"} if run else set(), {f"day:{day}"} if day else set())
        with self.engine.connect() as conn:
            self.gate.check(conn)
        if self.ingest_settled():
            self._ahead_left = self._run_ahead()
            if self._ahead_left:
                self._wake.set()  # the next cycle goes on at once, after the other passes
        ready = self._whole_state_passes_ready(
            f"run:{run}" if run else None, f"day:{day}" if day else None, held
        )
        if ready:
            self.pipeline.run_whole_state(
                self.clock(),
                run_id=run,
                after_run=f"run:{run}" in ready,
                daily=f"day:{day}" in ready,
            )
            for key in ready:
                self._due_since.pop(key, None)
        # Not on the store as it was before the first catch-up, nor while a driver of
        # a simulated clock holds detection (its clock stands still meanwhile).
        if self.gate.ever and not held:
            self.pipeline.run_continuous(self.clock())
            reconcile_dead_letters(self.engine, self.pipeline.notifier, self.clock())
        self.pipeline.deliver(self.clock())
        self.pipeline.refresh_gauges()
        self.metrics.detection_last_pass.set(self.clock().timestamp())

    def _whole_state_passes_ready(
        self, run_key: str | None, day_key: str | None, held: bool
    ) -> set[str]:
        """The after-run and daily passes to run now: those whose store has caught up.

        Both read the whole state; when both are due at once (a start in the morning,
        a backlog read past ``daily_at``), one load serves both. When the day became
        due after the run, its catch-up is known a cycle or two after the run's: the
        after-run pass waits for it, ``JOIN_DAILY_SECONDS`` at most.
        """
        if held:
            return set()
        due = [key for key in (run_key, day_key) if key is not None]
        ready = {key for key in due if self.gate.holds_everything_before(self._due_since[key])}
        if (
            day_key is not None
            and ready == {run_key}
            and self.clock.monotonic() - self._due_since[day_key] < JOIN_DAILY_SECONDS
        ):
            return set()
        return ready

    def _run_ahead(self) -> bool:
        """Passes over the dirty ELPs, as long as each takes a full batch; whether some are left.

        Under steady traffic ELPs are marked dirty again while they are checked: a pass
        that took less than a full batch took all there was, and the cycle goes on to
        the scheduled passes and the outbox instead of chasing new marks (which starved
        them, and made a fault wait behind every ELP touched since). ELPs whose own row
        changed come first, in a pass of their own (``DirtyClaims.claim``). A backlog is
        read in full batches, for ``AHEAD_BUDGET_SECONDS`` at most per cycle.
        """
        budget_ends = self.clock.monotonic() + AHEAD_BUDGET_SECONDS
        while True:
            report = self.pipeline.run_ahead(self.clock())
            if report is None:
                return False
            if not report.offer_first and (report.scope_size or 0) < DIRTY_BATCH:
                return False
            if self.clock.monotonic() >= budget_ends:
                return True

    def _note_due(self, *due: set[str]) -> None:
        """Remember since when each waiting pass is due; forget those no longer due."""
        wanted = set().union(*due)
        for key in set(self._due_since) - wanted:
            del self._due_since[key]
        for key in wanted:
            self._due_since.setdefault(key, self.clock.monotonic())

    def readiness(self) -> dict[str, bool]:
        if self.role == "api":
            return {}
        return {
            "ingest_running": any(
                t.name == "ecampus-ingest" and t.is_alive() for t in self._threads
            ),
            "detection_running": any(
                t.name == "ecampus-detection" and t.is_alive() for t in self._threads
            ),
        } | self.conditions.checks()

    def progress(self, ends: Mapping[TopicPartition, int]) -> Progress:
        """How far the daemon is against ``ends`` (what was published), dirty ELPs and queued mail."""
        lag = remaining(client_options(self.settings.kafka), self.settings.kafka.group_id, ends)
        with self.engine.connect() as conn:
            dirty = conn.execute(select(func.count()).select_from(dirty_elp)).scalar_one()
            queued = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "queued")
            ).scalar_one()
        return Progress(lag=lag, dirty_elps=dirty, outbox_queued=queued)

    def install_signal_handlers(self) -> None:
        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s received: finishing the current batch, then stopping", signum)
            self.stop_event.set()
            self._wake.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stopped (True) or the timeout passes (False)."""
        return self.stop_event.wait(timeout)

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        if self.api is not None:
            self.api.stop()
        if self._metrics_server is not None:
            server, _thread = self._metrics_server
            server.shutdown()
        self.engine.dispose()
        if self._failure is not None:
            raise RuntimeError("a daemon thread failed") from self._failure
