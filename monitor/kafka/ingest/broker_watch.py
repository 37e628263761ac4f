"""Whether the broker answers, probed from the ingest thread every few seconds.

kafka-python retries a lost broker on its own and only logs its own
warnings; ``poll`` then mostly returns nothing, which looks like a quiet
night (and at times raises a retriable error: ``IngestLoop.poll`` reports it
here with ``lost`` and polls again). The probe asks for something that needs an answer: the end offsets of
the assigned partitions, or, before any assignment, fresh cluster metadata.
It runs on the ingest thread because the consumer is not thread-safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError

from monitor.readiness import Conditions

BROKER = "broker"
PROBE_TIMEOUT_MS = 2000


class BrokerWatch:
    """Sets the ``broker`` condition of ``conditions`` at most every ``interval_seconds``."""

    def __init__(
        self,
        conditions: Conditions,
        *,
        interval_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conditions = conditions
        self.interval_seconds = interval_seconds
        self.monotonic = monotonic
        self._next_probe = 0.0

    def maybe_probe(self, consumer: Any) -> None:
        now = self.monotonic()
        if now < self._next_probe:
            return
        self._next_probe = now + self.interval_seconds
        self.probe(consumer)

    def probe(self, consumer: Any) -> bool:
        """Ask the broker one question; record and return whether it answered."""
        try:
            assigned = list(consumer.assignment())
            if assigned:
                consumer.end_offsets(assigned, timeout_ms=PROBE_TIMEOUT_MS)
            else:
                consumer.bootstrap(timeout_ms=PROBE_TIMEOUT_MS, refresh=True)
        except KafkaError as error:
            self.lost(error)
            return False
        self.conditions.back(BROKER)
        return True

    def lost(self, error: KafkaError) -> None:
        """The broker did not answer (the next probe says when it does again)."""
        self.conditions.lost(BROKER, f"Kafka does not answer ({type(error).__name__})")
