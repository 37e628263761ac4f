"""What the daemon needs to run as one of several workers: the lease, its keeper, the claims.

Ingest stays shared by the consumer group; the scheduled passes (ahead, after
the run, daily, continuous, delivery, Alertmanager push) run only in the worker
that holds the detection lease, and each pass commits only under that lease
(``StoreLease.fence``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from monitor.config import CoordinationSettings
from monitor.coordination.dirty_claims import DirtyClaims
from monitor.coordination.ingest_watch import IngestWatch
from monitor.coordination.keeper import LeaseKeeper
from monitor.coordination.lease import LeaseLost, StoreLease, worker_identity
from monitor.coordination.presence import WorkerPresence
from monitor.metrics import Metrics

log = logging.getLogger(__name__)


class DetectionCoordinator:
    """One worker's part in electing who runs the detection cycle."""

    def __init__(
        self,
        engine: Engine,
        settings: CoordinationSettings,
        metrics: Metrics,
        *,
        wake: threading.Event | None = None,
        holder: str | None = None,
        ingest: IngestWatch | None = None,
        session_timeout_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder or worker_identity()
        ttl = settings.lease_ttl_seconds
        self.lease = StoreLease(engine, holder=self.holder, ttl_seconds=ttl, monotonic=monotonic)
        self.claims = DirtyClaims(engine, holder=self.holder, ttl_seconds=ttl)
        self.ingest = ingest or IngestWatch(lambda: True, lambda: 1, standby_after=0)
        self.presence = WorkerPresence(
            engine, holder=self.holder, ttl_seconds=ttl, orphan_seconds=session_timeout_seconds
        )
        self.keeper = LeaseKeeper(
            self.lease,
            metrics,
            ttl_seconds=ttl,
            on_taken=wake,
            presence=self.presence,
            caught_up=self.ingest.settled,
        )
        self.cycles_run = 0
        self.cycles_skipped = 0

    def start(self) -> None:
        """One round before the detection thread starts: a lone worker holds the lease at once."""
        self.keeper.round()

    def caught_up_by_construction(self) -> None:
        """This worker applies every change itself before each detection cycle, in a store
        of its own (a replay): its ingest is settled by construction."""
        self.ingest = IngestWatch(lambda: True, lambda: 1, standby_after=0)
        self.keeper.caught_up = self.ingest.settled

    def run_alone(self, detect: Callable[[], None]) -> bool:
        """Take or renew the lease, then ``run_as_holder``: for a process without a lease
        thread (a replay), one round per cycle keeps the lease as long as it runs."""
        self.keeper.round()
        return self.run_as_holder(detect)

    def store_caught_up(self) -> bool:
        """Whether this worker's ingest and every other live worker's are at their partitions' end."""
        if not self.ingest.settled():
            return False
        try:
            return self.presence.others_caught_up()
        except Exception as error:  # the store is down: the passes would fail anyway
            log.debug("worker presence not read: %s", type(error).__name__)
            return False

    def run_as_holder(self, detect: Callable[[], None]) -> bool:
        """Run ``detect`` (one detection cycle) if this worker holds the lease; whether it ran."""
        if not self.lease.held:
            self.cycles_skipped += 1
            return False
        try:
            detect()
        except LeaseLost as lost:
            # Another worker took over while this one stalled: its pass was rolled back.
            log.warning("detection cycle abandoned: %s", lost)
            return False
        self.cycles_run += 1
        return True
