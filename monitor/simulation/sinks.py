"""Where the simulated events go: JSON lines files (one per topic), or any Kafka broker.

A JSON lines file holds one record per line, ``{"key": …, "value": …}``
(``value`` null for a tombstone), in publishing order: replay it with any
producer, e.g. ``kcat -P -K'\\t'`` after a ``jq`` reshaping.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from kafka import KafkaProducer

from monitor.kafka.broker import ensure_topics
from monitor.kafka.events import OutgoingMessage, publish

TRUTH_FILE = "ground_truth.jsonl"
SUMMARY_FILE = "simulation.json"
PRODUCER_OPTIONS = {
    "linger_ms": 20,
    "batch_size": 512 * 1024,
    "max_request_size": 8 * 1024 * 1024,
    "acks": 1,
}


def topic_file(directory: Path, topic: str) -> Path:
    return directory / f"{topic}.jsonl"


class JsonLinesWriter:
    """Appends messages to ``<directory>/<topic>.jsonl``, one file per topic."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._files: dict[str, IO[str]] = {}
        self.counts: Counter[str] = Counter()

    def write(self, message: OutgoingMessage) -> None:
        out = self._files.get(message.topic)
        if out is None:
            path = topic_file(self.directory, message.topic)
            out = self._files[message.topic] = path.open("w", encoding="utf-8", buffering=1 << 20)
        out.write(json.dumps({"key": message.key, "value": message.value}, ensure_ascii=False))
        out.write("\n")
        self.counts[message.topic] += 1

    def close(self) -> None:
        for out in self._files.values():
            out.close()
        self._files.clear()

    def __enter__(self) -> JsonLinesWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_jsonl(path: Path) -> Iterator[OutgoingMessage]:
    """Messages of one topic file, as written by ``JsonLinesWriter``."""
    topic = path.name.removesuffix(".jsonl")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            yield OutgoingMessage(topic, record["key"], record["value"])


def make_producer(bootstrap: str, **options: object) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, **(PRODUCER_OPTIONS | options))


def publish_to_kafka(
    bootstrap: str,
    messages: Iterable[OutgoingMessage],
    topics: Iterable[str],
    *,
    on_sent: Callable[[OutgoingMessage], None] | None = None,
    partitions: int = 6,
) -> Counter[str]:
    """Create the missing topics, send every message in order, flush; count them per topic."""
    ensure_topics({"bootstrap_servers": bootstrap}, topics, partitions)
    producer = make_producer(bootstrap)
    counts: Counter[str] = Counter()
    try:
        for message in publish(producer, messages):
            counts[message.topic] += 1
            if on_sent is not None:
                on_sent(message)
    finally:
        producer.close()
    return counts
