"""The thread that keeps the detection lease: acquire or renew every TTL/3, count handovers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from monitor.coordination.lease import StoreLease
from monitor.coordination.lease_core import renew_every
from monitor.coordination.presence import WorkerPresence
from monitor.metrics import Metrics

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Runs ``StoreLease.acquire`` in a loop until stopped; wakes ``on_taken`` when it takes the lease."""

    def __init__(
        self,
        lease: StoreLease,
        metrics: Metrics,
        *,
        ttl_seconds: float,
        on_taken: threading.Event | None = None,
        presence: WorkerPresence | None = None,
        caught_up: Callable[[], bool] = lambda: True,
    ) -> None:
        self.lease = lease
        self.presence = presence
        self.caught_up = caught_up
        self.metrics = metrics
        self.interval = renew_every(ttl_seconds)
        self.on_taken = on_taken
        self.rounds = 0

    def round(self) -> None:
        """One acquire/renew; a store error only means "not held" until the next round."""
        was_held = self.lease.held
        try:
            if self.presence is not None:
                self.presence.report(self.caught_up())
            decision = self.lease.acquire()
        except Exception as error:  # an outage: the lease lapses locally, ingest handles the store
            log.warning("the detection lease could not be renewed: %s", type(error).__name__)
            log.debug("lease round failed", exc_info=True)
            decision = None
        held = self.lease.held
        self.rounds += 1
        self.metrics.lease_held.set(1 if held else 0)
        if decision is not None and decision.action == "take":
            if decision.handover:
                self.metrics.lease_handovers.inc()
            log.info(
                "detection lease taken by %s (term %s, %s)",
                self.lease.holder,
                self.lease.term,
                decision.reason,
            )
            if self.on_taken is not None:
                self.on_taken.set()
        elif was_held and not held:
            log.warning("detection lease lost by %s", self.lease.holder)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self.round()
        try:
            self.lease.release()  # a clean stop hands over at once, not after the TTL
            if self.presence is not None:
                self.presence.leave(self.caught_up())
        except Exception as error:
            log.warning("the detection lease could not be released: %s", type(error).__name__)
        self.metrics.lease_held.set(0)
