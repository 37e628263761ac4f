"""The ingest loop: poll a batch, decode, dead-letter, persist, commit, then tell the caller.

Order per batch, so that nothing is ever lost:

1. decode every message (``decode``); invalid ones go to the dead-letter
   topic and Kafka acknowledges them (``dead_letter``);
2. apply every good change and the ``ingest_progress`` rows in ONE
   state-store transaction (``persist``);
3. commit the batch's offsets synchronously;
4. call ``on_applied``.

When step 1's producer or step 2's store is unavailable, the loop pauses its
partitions, keeps polling (so the group keeps it) and retries the same batch
with exponential backoff. A failed commit (rebalance) is retried after a
poll; the partitions we lost are re-delivered to their new owner, and
re-applying is idempotent. Asked to stop, the loop finishes the batch it
holds; if the store is down at that moment the batch stays uncommitted and
is delivered again at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Engine

from monitor.clock import Clock, as_clock, utc_now
from monitor.config import Settings
from monitor.kafka.broker import DEFAULT_PARTITIONS, TopicsNotCreated, ensure_topics
from monitor.kafka.catchup import CatchUp
from monitor.kafka.ingest.backoff import Backoff
from monitor.kafka.ingest.broker_watch import BrokerWatch
from monitor.kafka.ingest.commit import BatchAbandoned, commit_offsets, keep_alive
from monitor.kafka.ingest.dead_letter import DeadLetterQueue, DeadLetterUnavailable, KafkaMessage
from monitor.kafka.ingest.dead_letter_entities import DeadLetterEntities
from monitor.kafka.ingest.decode import InvalidMessage, MessageDecoder
from monitor.kafka.ingest.isolate import persist_isolating
from monitor.kafka.ingest.kafka_options import (
    client_options,
    consumer_options,
    dead_letter_topic,
    producer_options,
    source_topics,
)
from monitor.kafka.ingest.lag import LagReporter
from monitor.kafka.ingest.persist import PartitionProgress, StoreUnavailable, persist_batch
from monitor.kafka.mapping import Change
from monitor.metrics import Metrics
from monitor.readiness import Conditions
from monitor.store.apply import AppliedBatch

log = logging.getLogger(__name__)

T = TypeVar("T")

# How many times ``max_poll_records`` a batch may hold while the consumer is behind.
LAGGING_FACTOR = 4


class IngestLoop:
    """Consumes every configured topic into the state store.

    >>> loop = IngestLoop(settings, engine, Metrics(CollectorRegistry()))   # doctest: +SKIP
    >>> stop = threading.Event()
    >>> threading.Thread(target=loop.run, args=(stop,)).start()
    >>> stop.set()   # finishes the batch, commits, closes
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        metrics: Metrics,
        *,
        on_applied: Callable[[AppliedBatch], None] | None = None,
        clock: Clock | Callable[[], datetime] = utc_now,
        create_topics: bool = True,
        topic_partitions: int = DEFAULT_PARTITIONS,
        lag_interval_seconds: float = 5.0,
        conditions: Conditions | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.metrics = metrics
        self.on_applied = on_applied
        self.clock = as_clock(clock)
        self.create_topics = create_topics
        self.topic_partitions = topic_partitions
        self.decoder = MessageDecoder(settings.sources, metrics)
        self.lag = LagReporter(
            metrics, interval_seconds=lag_interval_seconds, monotonic=self.clock.monotonic
        )
        self._consumer: Any = None
        self._producer: Any = None
        self._dead_letters: DeadLetterQueue | None = None
        self._newest_ts: dict[str, int] = {}
        self._lagging = False
        self.conditions = conditions or Conditions(self.clock.monotonic)
        self.catchup = CatchUp(self.clock.monotonic)
        self.dead_letter_entities = DeadLetterEntities(settings)
        self.broker_watch = BrokerWatch(
            self.conditions, interval_seconds=lag_interval_seconds, monotonic=self.clock.monotonic
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def topics(self) -> list[str]:
        return source_topics(self.settings)

    def open(self) -> None:
        """Create missing topics, connect, subscribe. ``run`` calls it."""
        if self._consumer is not None:
            return
        kafka = self.settings.kafka
        if self.create_topics:
            wanted = self.topics + [
                dead_letter_topic(t, kafka.dead_letter_suffix) for t in self.topics
            ]
            try:
                ensure_topics(client_options(kafka), wanted, self.topic_partitions)
            except (KafkaError, TopicsNotCreated) as error:
                log.warning("could not check or create topics (%s); subscribing anyway", error)
        self._producer = KafkaProducer(**producer_options(kafka))
        self._dead_letters = DeadLetterQueue(self._producer, kafka.dead_letter_suffix, self.metrics)
        self._consumer = KafkaConsumer(**consumer_options(kafka))
        self._consumer.subscribe(topics=self.topics, listener=_Rebalanced(self.catchup))
        log.info("ingest subscribed to %d topics as group %s", len(self.topics), kafka.group_id)

    def close(self) -> None:
        """Leave the group and close the clients (offsets were committed batch by batch)."""
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
            self._consumer = None
        if self._producer is not None:
            self._producer.close()
            self._producer = None

    def __enter__(self) -> IngestLoop:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    last_origins: list[KafkaMessage]
    """The message each change of the last decoded batch came from (``decode_batch``)."""

    caught_up: bool = False
    """Whether the last poll drained what the broker had (set by ``run_once``)."""

    @property
    def consumer(self) -> Any:
        if self._consumer is None:
            raise RuntimeError("the ingest loop is not open")
        return self._consumer

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; then finish the batch, commit, close and return."""
        self.open()
        try:
            while not stop.is_set():
                self.run_once(stop)
        except BatchAbandoned as abandoned:
            log.warning(
                "stopped with an uncommitted batch (%s): it will be consumed again", abandoned
            )
        finally:
            self.close()

    # -- one batch -------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> AppliedBatch | None:
        """Poll one batch and process it; ``None`` when the poll returned nothing."""
        messages = self.poll()
        self.lag.maybe_report(self.consumer)
        self.broker_watch.maybe_probe(self.consumer)
        self.catchup.serve(self.consumer, self.topics)
        if not messages:
            self.caught_up = self._at_end()
            return None
        # While messages wait on some partition, the store may hold one topic's changes
        # without another's (a Moodle enrolment before its course): detectors that
        # compare sources should wait until every partition is read to its end. The
        # batch polled is not in the store yet: caught up is said after it is.
        self.caught_up = False
        applied = self.process_batch(messages, stop)
        self.caught_up = self._at_end()
        return applied

    def _at_end(self) -> bool:
        """Whether every assigned partition is read up to its high watermark.

        Uses what the latest fetch responses said (no request): a partition never
        fetched yet counts as behind, and no partition assigned (joining the
        group) is not caught up. The latest, not those the batch's poll saw: the
        client fetches ahead while a batch is stored, and by the poll's a burst the
        consumer keeps pace with (a snapshot published while workers read it) would
        look caught up: detection would compare sources on half a burst (DECISIONS.md).
        """
        assigned = self.consumer.assignment()
        if not assigned:
            return False
        for tp in assigned:
            highwater = self.consumer.highwater(tp)
            if highwater is None or (self.consumer.position(tp, timeout_ms=1000) or 0) < highwater:
                return False
        return True

    def poll(self) -> list[KafkaMessage]:
        """The next batch: ``max_poll_records`` at most, ``LAGGING_FACTOR`` times more when behind.

        A full batch means more is waiting: the next one may be larger, so that a backlog
        (a snapshot, a replay, a start-of-year burst) pays the per-batch costs (offset and
        store commits, one statement per table) over more messages. Live traffic keeps
        small batches, and its latency.
        """
        kafka = self.settings.kafka
        started = time.perf_counter()
        limit = kafka.max_poll_records * (LAGGING_FACTOR if self._lagging else 1)
        try:
            fetched = self.consumer.poll(timeout_ms=kafka.poll_timeout_ms, max_records=limit)
        except KafkaError as error:
            if not error.retriable:
                raise
            # A lost broker is retried inside poll, but at times (the group coordinator
            # looked up while the metadata refresh fails) poll raises instead: the broker
            # is reported lost, and the loop polls again after the poll's own wait.
            self.broker_watch.lost(error)
            self.clock.sleep(kafka.poll_timeout_ms / 1000)
            return []
        messages = [message for messages in fetched.values() for message in messages]
        self._lagging = len(messages) >= kafka.max_poll_records
        if messages:  # an empty poll is waiting, not work
            self.metrics.ingest_stage_seconds.labels("poll").observe(time.perf_counter() - started)
        return messages

    def process_batch(
        self, messages: Sequence[KafkaMessage], stop: threading.Event | None = None
    ) -> AppliedBatch:
        """Decode, dead-letter, persist and commit ``messages``; then call ``on_applied``."""
        assert self._dead_letters is not None
        began = time.perf_counter()
        decoded = dict(self.decoder.seconds)
        changes, progress = self.decode_batch(messages)
        stages = {name: self.decoder.seconds[name] - decoded[name] for name in decoded}
        started = time.perf_counter()
        if self._dead_letters.pending:
            self._until_done(self._dead_letters.flush, DeadLetterUnavailable, stop)
        stages["dead_letters"] = time.perf_counter() - started

        origins = self.last_origins

        def persist() -> tuple[AppliedBatch, list[tuple[KafkaMessage, InvalidMessage]], float]:
            started = time.perf_counter()
            applied, refused = persist_isolating(
                self.engine, changes, origins, progress, self.clock(), persist=persist_batch
            )
            stored = time.perf_counter()
            for message, error in refused:
                self.dead_letter_entities.dead_lettered(message, error.reason_kind)
            self.dead_letter_entities.record(self.engine, self.clock())
            stages["dead_letters"] += time.perf_counter() - stored
            return applied, refused, stored - started

        applied, refused, seconds = self._until_done(persist, StoreUnavailable, stop)
        started = time.perf_counter()
        if refused:  # acknowledged by the dead-letter topic before the offsets move on
            for message, error in refused:
                self._dead_letters.send(message, error)
            self._until_done(self._dead_letters.flush, DeadLetterUnavailable, stop)
        stages["dead_letters"] += time.perf_counter() - started
        started = time.perf_counter()
        commit_offsets(
            self.consumer,
            {
                TopicPartition(topic, partition): max(part.offsets) + 1
                for (topic, partition), part in progress.items()
            },
            stop,
            retry_max_seconds=self.settings.store.retry_max_seconds,
        )
        stages["offset_commit"] = time.perf_counter() - started
        self._observe(messages, progress, seconds)
        stages |= applied.seconds
        stages["other"] = max(0.0, time.perf_counter() - began - sum(stages.values()))
        for stage, spent in stages.items():
            self.metrics.ingest_stage_seconds.labels(stage).observe(spent)
        if self.on_applied is not None:
            self.on_applied(applied)
        return applied

    def decode_batch(
        self, messages: Sequence[KafkaMessage]
    ) -> tuple[list[Change], dict[tuple[str, int], PartitionProgress]]:
        """The good changes of ``messages`` and what each partition consumed; queues the bad ones.

        ``last_origins[i]`` is then the message ``changes[i]`` came from.
        """
        assert self._dead_letters is not None
        changes: list[Change] = []
        self.last_origins = origins = []
        progress: dict[tuple[str, int], PartitionProgress] = {}
        decode, valid = self.decoder.decode, self.dead_letter_entities.valid  # once a message
        for message in messages:
            slot = (message.topic, message.partition)
            part = progress.get(slot)
            if part is None:
                part = progress[slot] = PartitionProgress(message.topic, message.partition)
            try:
                change = decode(message.topic, message.value)
            except InvalidMessage as error:
                self._dead_letters.send(message, error)
                self.dead_letter_entities.dead_lettered(message, error.reason_kind)
                part.dead_lettered(message.offset)
                continue
            if change is None:  # tombstone: counted as consumed, nothing to apply
                part.consumed(message.offset)
                continue
            changes.append(change)
            origins.append(message)
            valid(message)
            part.consumed(message.offset, change.source_ts)
        return changes, progress

    def _observe(
        self,
        messages: Sequence[KafkaMessage],
        progress: dict[tuple[str, int], PartitionProgress],
        apply_seconds: float,
    ) -> None:
        per_topic: dict[str, int] = {}
        for (topic, _partition), part in progress.items():  # every message is in one
            per_topic[topic] = per_topic.get(topic, 0) + len(part.offsets)
        for topic, count in per_topic.items():
            self.metrics.events_consumed.labels(topic).inc(count)
        self.metrics.batch_size.observe(len(messages))
        self.metrics.batch_apply_seconds.observe(apply_seconds)
        committed_at = self.clock().timestamp()
        for (topic, _partition), part in progress.items():
            newest = part.newest_source_ts
            if newest is not None:
                self.metrics.apply_delay.labels(topic).observe(
                    max(0.0, committed_at - newest / 1000)
                )
            if newest is not None and newest > self._newest_ts.get(topic, -1):
                self._newest_ts[topic] = newest
                self.metrics.newest_fact_timestamp.labels(topic).set(newest / 1000)

    # -- waiting without losing the group -----------------------------------------------------

    def _until_done(
        self,
        step: Callable[[], T],
        retriable: type[Exception],
        stop: threading.Event | None,
    ) -> T:
        """Run ``step`` until it stops raising ``retriable``, consumption paused in between."""
        store = self.settings.store
        backoff = Backoff(store.retry_initial_seconds, store.retry_max_seconds)
        paused = False
        try:
            while True:
                try:
                    result = step()
                except retriable as error:
                    if isinstance(error, StoreUnavailable):
                        self.metrics.store_unavailable.inc()
                        self.conditions.lost("store", str(error))
                    delay = backoff.next_delay()
                    log.warning("%s; retrying in %.1f s, consumption paused", error, delay)
                    paused = True
                    keep_alive(self.consumer, delay, stop, self.lag.maybe_report)
                    continue
                if paused and retriable is StoreUnavailable:
                    self.conditions.back("store")
                return result
        finally:
            if paused:
                self.consumer.resume(*self.consumer.assignment())


class _Rebalanced(ConsumerRebalanceListener):  # type: ignore[misc]
    """Tells the catch-up tickets that the assignment changed (called inside ``poll``)."""

    def __init__(self, catchup: CatchUp) -> None:
        self.catchup = catchup

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.catchup.on_revoked()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.catchup.on_assigned(assigned)
