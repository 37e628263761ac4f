"""Replay recorded topics through the daemon, its clock following the events' source time.

A university backtests a past September: what would the monitor have said,
and when? The recorded messages (JSON lines files as ``simulate --out``
writes them, or the topics of a Kafka read from the beginning) are decoded,
put in source-time order (``source.ts_ms``, the run report's date) and
applied to a store of the replay's own. The daemon's clock is an
``EventClock``: the newest source time applied, never going back. Its
detection cycle (``Daemon.detect_once``: ahead, after-run, daily,
continuous, digests, delivery) runs at checkpoints of that time:

- every ``step`` of source time in which events arrived (the live daemon
  runs after each batch);
- just before a run report is applied (the predictions of the evening) and
  just after (the after-run pass);
- each local day at ``schedule.daily_time`` and ``notifications.digest_time``,
  so the daily passes and the digests fire as the replayed days pass.

A message that cannot be decoded is counted and skipped (the recording keeps it).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from monitor.clock import EventClock
from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.kafka.ingest.kafka_options import client_options
from monitor.kafka.ingest.persist import persist_batch
from monitor.kafka.mapping import Change

log = logging.getLogger(__name__)

SKIPPED_FILES = frozenset({"ground_truth.jsonl"})


@dataclass(frozen=True)
class Recorded:
    """One recorded message: its topic and raw value (None: a tombstone)."""

    topic: str
    value: bytes | None


@dataclass
class ReplayReport:
    events: int = 0
    undecodable: Counter[str] = field(default_factory=Counter)
    checkpoints: int = 0
    first: datetime | None = None
    last: datetime | None = None


def from_directory(directory: Path, topics: Iterable[str] | None = None) -> Iterator[Recorded]:
    """The messages of ``<directory>/<topic>.jsonl`` files, each file in its order."""
    wanted = set(topics) if topics is not None else None
    for path in sorted(directory.glob("*.jsonl")):
        topic = path.name.removesuffix(".jsonl")
        if path.name in SKIPPED_FILES or (wanted is not None and topic not in wanted):
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    value = json.loads(line).get("value")
                    encoded = None if value is None else json.dumps(value).encode()
                    yield Recorded(topic, encoded)


def from_kafka(settings: Settings, topics: Iterable[str]) -> Iterator[Recorded]:
    """Every message of ``topics`` from the beginning to their end, without a consumer group.

    Meant for recorded topics no one writes to any more: messages published while
    the replay reads them may be read too.
    """
    consumer = KafkaConsumer(
        **client_options(settings.kafka), group_id=None, enable_auto_commit=False
    )
    try:
        existing = consumer.topics()  # one metadata request for every topic
        missing = sorted(set(topics) - existing)
        if missing:
            log.warning("not on the broker, not replayed: %s", ", ".join(missing))
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            if topic in existing
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        # Done once every partition reached its end offset and a poll brings nothing more:
        # some brokers (the embedded one) under-report end offsets, so they alone cannot tell.
        while True:
            fetched = consumer.poll(timeout_ms=1000, max_records=5000)
            for records in fetched.values():
                for record in records:
                    yield Recorded(record.topic, record.value)
            if not fetched and all(consumer.position(tp) >= end for tp, end in ends.items()):
                break
    finally:
        consumer.close()


def decode_in_time_order(
    settings: Settings, messages: Iterable[Recorded], report: ReplayReport
) -> list[Change]:
    """The changes, by source time (stable: a topic's own order is kept within a millisecond)."""
    decoder = MessageDecoder(settings.sources)
    changes: list[Change] = []
    for message in messages:
        try:
            change = decoder.decode(message.topic, message.value)
        except InvalidMessage as error:
            report.undecodable[message.topic] += 1
            log.debug("undecodable message on %s: %s", message.topic, error)
            continue
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda c: c.source_ts)
    return changes


def _moment(change: Change) -> datetime:
    return datetime.fromtimestamp(change.source_ts / 1000, UTC)


def scheduled_moments(settings: Settings, first: datetime, last: datetime) -> list[datetime]:
    """Each local day's daily pass and digest time between ``first`` and ``last`` (UTC)."""
    zone = ZoneInfo(settings.rules.timezone)
    times: list[time] = [settings.schedule.daily_time, settings.notifications.digest_time]
    moments: list[datetime] = []
    day: date = first.astimezone(zone).date()
    while day <= last.astimezone(zone).date() + timedelta(days=1):
        moments += [datetime.combine(day, t, tzinfo=zone).astimezone(UTC) for t in times]
        day += timedelta(days=1)
    return sorted(m for m in moments if first < m)


class Replay:
    """The daemon's detection cycle over recorded changes, on an ``EventClock``."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        step: timedelta = timedelta(hours=1),
        clock: EventClock | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.step = step
        self.clock = clock or EventClock(datetime.min.replace(tzinfo=UTC))
        self.daemon = Daemon(
            settings, registry=CollectorRegistry(), clock=self.clock, engine=engine, role="worker"
        )
        # Replay applies the changes itself: at a checkpoint the store holds every change
        # up to the clock, which is what a reached catch-up ticket and settled workers tell
        # the live daemon. It is the only worker of its store: it holds the detection lease.
        self.daemon.gate.caught_up_by_construction()
        self.daemon.coordinator.caught_up_by_construction()

    def run(self, changes: list[Change], report: ReplayReport) -> ReplayReport:
        self.daemon.check_store()
        try:
            return self._run(changes, report)
        finally:
            self.daemon.coordinator.lease.release()  # a later replay into this store takes it

    def _run(self, changes: list[Change], report: ReplayReport) -> ReplayReport:
        if not changes:
            return report
        first, last = _moment(changes[0]), _moment(changes[-1])
        report.first, report.last = first, last
        self.clock.observe(first)
        self.daemon.pipeline.warm_up()
        scheduled = scheduled_moments(self.settings, first, last)
        next_step = first + self.step
        pending: list[Change] = []
        for change in changes:
            moment = _moment(change)
            while scheduled and scheduled[0] <= moment:
                self._checkpoint(pending, scheduled.pop(0), report)
            if moment >= next_step:
                if pending:
                    self._checkpoint(pending, next_step, report)
                next_step = moment + self.step
            if change.entity == "sync_run":
                self._checkpoint(pending, moment - timedelta(milliseconds=1), report)
                pending.append(change)
                self._checkpoint(pending, moment, report)
                continue
            pending.append(change)
        self._checkpoint(pending, last, report)
        while scheduled and scheduled[0] <= last + timedelta(days=1):
            self._checkpoint([], scheduled.pop(0), report)  # the last morning's passes
        return report

    def _checkpoint(self, pending: list[Change], moment: datetime, report: ReplayReport) -> None:
        if pending:
            persist_batch(self.engine, pending, (), self.clock.observe(moment))
            report.events += len(pending)
            pending.clear()
        self.clock.observe(moment)
        if not self.daemon.coordinator.run_alone(self.daemon.detect_once):
            current = self.daemon.coordinator.lease.current()
            raise RuntimeError(
                "the replay's store has a detection lease held by "
                f"{current.holder if current else 'no one'}: is another replay using it?"
            )
        report.checkpoints += 1
