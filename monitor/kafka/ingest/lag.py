"""The consumer-lag gauge: messages not yet consumed, per assigned partition, every few seconds.

The end of a partition is the larger of the fetch responses' high watermark
and ``end_offsets``: Tansu answers ListOffsets(latest) with the base offset
of the last record batch plus one, which under-counts when producers batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError

from monitor.metrics import Metrics

log = logging.getLogger(__name__)


class LagReporter:
    """Sets ``consumer_lag{topic,partition}`` at most every ``interval_seconds``."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        interval_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self.monotonic = monotonic
        self._next_report = 0.0
        self._reported: set[tuple[str, str]] = set()

    def maybe_report(self, consumer: Any) -> None:
        now = self.monotonic()
        if now < self._next_report:
            return
        self._next_report = now + self.interval_seconds
        try:
            self.report(consumer)
        except KafkaError as error:
            log.debug("consumer lag not measured this time: %s", error)

    def report(self, consumer: Any) -> dict[tuple[str, int], int]:
        """Measure and publish the lag of every assigned partition; return it."""
        assigned = list(consumer.assignment())
        ends = consumer.end_offsets(assigned, timeout_ms=2000) if assigned else {}
        lags: dict[tuple[str, int], int] = {}
        for tp in assigned:
            end = max(ends.get(tp) or 0, consumer.highwater(tp) or 0)
            position = consumer.position(tp, timeout_ms=2000)
            if position is None:
                continue
            lags[(tp.topic, tp.partition)] = max(0, end - position)
        labels = {(topic, str(partition)) for topic, partition in lags}
        for gone in self._reported - labels:
            self.metrics.consumer_lag.remove(*gone)
        for (topic, partition), lag in lags.items():
            self.metrics.consumer_lag.labels(topic, str(partition)).set(lag)
        self._reported = labels
        return lags
