"""The keeper's metrics and the daemon's hook: only the holder runs a detection cycle."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.config import CoordinationSettings
from monitor.coordination.detection import DetectionCoordinator
from monitor.coordination.lease import LeaseLost
from monitor.metrics import Metrics


def _coordinator(engine: Engine, holder: str) -> tuple[DetectionCoordinator, CollectorRegistry]:
    registry = CollectorRegistry()
    settings = CoordinationSettings(lease_ttl_seconds=1)
    return DetectionCoordinator(engine, settings, Metrics(registry), holder=holder), registry


def test_only_the_holder_runs_the_cycle_and_a_handover_is_counted(sqlite_engine: Engine) -> None:
    first, first_metrics = _coordinator(sqlite_engine, "w1")
    second, second_metrics = _coordinator(sqlite_engine, "w2")
    first.start()
    second.start()
    ran: list[str] = []
    assert first.run_as_holder(lambda: ran.append("w1"))
    assert not second.run_as_holder(lambda: ran.append("w2"))
    assert ran == ["w1"]
    assert first_metrics.get_sample_value("ecampus_monitor_detection_lease_held") == 1
    assert second_metrics.get_sample_value("ecampus_monitor_detection_lease_held") == 0

    # w1 stops cleanly: its keeper gives the lease up, w2 takes it at its next round.
    stop = threading.Event()
    stop.set()
    first.keeper.run(stop)
    second.keeper.round()
    assert second.run_as_holder(lambda: ran.append("w2"))
    assert ran == ["w1", "w2"]
    assert second_metrics.get_sample_value("ecampus_monitor_detection_lease_handovers_total") == 1
    assert first_metrics.get_sample_value("ecampus_monitor_detection_lease_held") == 0


def test_a_cycle_that_lost_the_lease_is_abandoned_not_fatal(sqlite_engine: Engine) -> None:
    coordinator, _registry = _coordinator(sqlite_engine, "w1")
    coordinator.start()

    def stalled() -> None:
        raise LeaseLost("taken over meanwhile")

    assert coordinator.run_as_holder(stalled) is False
