"""Step 2: invalid messages -> ``<topic><dead_letter_suffix>``, acknowledged before offsets move on.

The dead-letter record keeps the original bytes (base64) and where they came
from, so an operator can fix the mapping and replay them. The original bytes
hold personal data: they go into the dead-letter record only, never into logs
above DEBUG.

The record always fits the broker's default 1 MB limit: the original value is
kept up to ``MAX_VALUE_BYTES`` (then ``original_value_truncated`` is true),
the key up to ``MAX_KEY_BYTES``, the error text up to ``MAX_ERROR_CHARS``;
``original_value_size`` and ``original_value_sha256`` always describe the
whole original, so a truncated one can still be found and matched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from kafka.errors import KafkaError

from monitor.kafka.ingest.decode import InvalidMessage
from monitor.kafka.ingest.kafka_options import dead_letter_topic
from monitor.metrics import Metrics

log = logging.getLogger(__name__)


class KafkaMessage(Protocol):
    """What the ingest steps read of a consumed record (kafka-python's ``ConsumerRecord``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


class DeadLetterProducer(Protocol):
    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any: ...


class DeadLetterUnavailable(Exception):
    """The dead-letter topic did not acknowledge every record: keep the batch and retry later."""


# base64 makes 4 bytes of 3: 384 KiB of value is 512 KiB in the record, far under 1 MB.
MAX_VALUE_BYTES = 384 * 1024
MAX_KEY_BYTES = 16 * 1024
MAX_ERROR_CHARS = 2000


def _b64(data: bytes | None, limit: int) -> str | None:
    return base64.b64encode(data[:limit]).decode("ascii") if data is not None else None


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def dead_letter_value(message: KafkaMessage, error: InvalidMessage) -> bytes:
    """The JSON dead-letter record of ``message``, bounded whatever the message's size."""
    value, key = message.value, message.key
    return json.dumps(
        {
            "original_value_b64": _b64(value, MAX_VALUE_BYTES),
            "original_value_truncated": value is not None and len(value) > MAX_VALUE_BYTES,
            "original_value_size": len(value) if value is not None else None,
            "original_value_sha256": hashlib.sha256(value).hexdigest() if value else None,
            "original_key_b64": _b64(key, MAX_KEY_BYTES),
            "original_key_truncated": key is not None and len(key) > MAX_KEY_BYTES,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "timestamp": message.timestamp,
            "error_kind": error.reason_kind,
            "error": _bounded(error.detail, MAX_ERROR_CHARS),
        },
        ensure_ascii=True,  # an error quoting a lone surrogate must still encode
    ).encode()


def dead_letter_key(key: bytes | None) -> bytes | None:
    """The original key (same partitioning), or its SHA-256 when too long to keep."""
    if key is None or len(key) <= MAX_KEY_BYTES:
        return key
    return hashlib.sha256(key).hexdigest().encode("ascii")


@dataclass
class _Pending:
    message: KafkaMessage
    error: InvalidMessage
    future: Any


class DeadLetterQueue:
    """Produces dead-letter records; ``flush`` returns once Kafka acknowledged them all.

    >>> dlq = DeadLetterQueue(producer, ".dlq", metrics)        # doctest: +SKIP
    >>> dlq.send(message, InvalidMessage("not_json", "..."))
    >>> dlq.flush()   # before committing the batch's offsets
    """

    def __init__(
        self,
        producer: DeadLetterProducer,
        suffix: str,
        metrics: Metrics,
        *,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.producer = producer
        self.suffix = suffix
        self.metrics = metrics
        self.timeout_seconds = timeout_seconds
        self._pending: list[_Pending] = []

    def send(self, message: KafkaMessage, error: InvalidMessage) -> None:
        """Queue ``message`` for its dead-letter topic (not yet acknowledged)."""
        log.warning(
            "dead-lettering %s[%d]@%d: %s",
            message.topic,
            message.partition,
            message.offset,
            error.reason_kind,
        )
        log.debug("dead-letter reason for %s@%d: %s", message.topic, message.offset, error.detail)
        self._pending.append(_Pending(message, error, self._produce(message, error)))

    def _produce(self, message: KafkaMessage, error: InvalidMessage) -> Any:
        return self.producer.send(
            dead_letter_topic(message.topic, self.suffix),
            value=dead_letter_value(message, error),
            key=dead_letter_key(message.key),
        )

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Wait for every queued record; return how many; ``DeadLetterUnavailable`` if some failed.

        Failed records are sent again at once, so the next ``flush`` retries them.
        """
        deadline = time.monotonic() + self.timeout_seconds
        failed: list[_Pending] = []
        acknowledged = 0
        last_error: Exception | None = None
        for pending in self._pending:
            try:
                pending.future.get(timeout=max(0.0, deadline - time.monotonic()))
            except KafkaError as error:
                last_error = error
                failed.append(pending)
                continue
            acknowledged += 1
            self.metrics.events_dead_lettered.labels(
                pending.message.topic, pending.error.reason_kind
            ).inc()
        for pending in failed:
            pending.future = self._produce(pending.message, pending.error)
        self._pending = failed
        if failed:
            raise DeadLetterUnavailable(
                f"{len(failed)} dead-letter record(s) not acknowledged: {last_error}"
            )
        return acknowledged
