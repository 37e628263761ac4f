"""Build and publish messages shaped like the real sources: Debezium events, run reports.

Used by the demo scenario, the simulator and the tests, so that what they
publish goes through exactly the contracts the daemon consumes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from kafka import KafkaProducer, TopicPartition

from monitor.kafka.contracts import SyncRunReport

_SEQUENCE = itertools.count(1)


@dataclass(frozen=True)
class OutgoingMessage:
    """One record to publish: topic, key and JSON value (None for a tombstone)."""

    topic: str
    key: str | None
    value: dict[str, Any] | None


def epoch_ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def debezium_change(
    topic: str,
    op: Literal["c", "u", "d", "r"],
    row: Mapping[str, Any],
    *,
    at: datetime,
    key_columns: Iterable[str],
    before: Mapping[str, Any] | None = None,
    wrapped: bool = False,
) -> OutgoingMessage:
    """A Debezium JSON change event for ``row`` of the table named by ``topic``."""
    prefix, schema, table = topic.split(".", 2)
    sequence = next(_SEQUENCE)
    source: dict[str, Any] = {
        "version": "2.7.0.Final",
        "connector": "mysql" if prefix == "moodle" else "oracle",
        "name": prefix,
        "ts_ms": epoch_ms(at),
        "snapshot": "true" if op == "r" else "false",
        "db": schema,
        "schema": schema,
        "table": table,
    }
    if prefix == "moodle":
        source["pos"] = sequence
    else:
        source["scn"] = str(sequence)
    payload = {
        "before": dict(before or row) if op in ("u", "d") else None,
        "after": dict(row) if op != "d" else None,
        "source": source,
        "op": op,
        "ts_ms": epoch_ms(at) + 5,
    }
    key = "|".join(str(row[c]) for c in key_columns)
    value = {"schema": {"type": "struct", "name": f"{topic}.Envelope"}, "payload": payload}
    return OutgoingMessage(topic, key, value if wrapped else payload)


def run_report(topic: str, report: SyncRunReport) -> OutgoingMessage:
    return OutgoingMessage(topic, report.run_id, report.model_dump(mode="json"))


def encode(value: dict[str, Any] | None) -> bytes | None:
    return None if value is None else json.dumps(value, ensure_ascii=False).encode()


def publish(
    producer: KafkaProducer,
    messages: Iterable[OutgoingMessage],
    ends: dict[TopicPartition, int] | None = None,
) -> Iterator[OutgoingMessage]:
    """Send messages in order, yielding each one (for progress bars); flush at the end.

    ``ends``, when given, receives the end offset of every partition written,
    from the broker's acknowledgements: what a consumer must reach to have
    read everything published.
    """

    def _acknowledged(metadata: Any) -> None:
        if ends is not None:
            tp = TopicPartition(metadata.topic, metadata.partition)
            ends[tp] = max(ends.get(tp, 0), metadata.offset + 1)

    for message in messages:
        future = producer.send(
            message.topic,
            key=message.key.encode() if message.key is not None else None,
            value=encode(message.value),
        )
        future.add_callback(_acknowledged)
        yield message
    producer.flush()
