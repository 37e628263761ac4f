"""One pass of the poller over a source's tables: read, compare, publish, remember.

Per table: one streamed query on the source, one streamed query on the
checkpoint, a merge join (``diff``), and per ``batch_size`` differences one
Kafka flush (every send acknowledged) then one store transaction for the
checkpoint. Memory is bounded by ``batch_size``, not by the table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from monitor.clock import Clock, as_clock
from monitor.config import Settings
from monitor.kafka.events import OutgoingMessage, encode, epoch_ms
from monitor.metrics import Metrics
from monitor.sources import checkpoint
from monitor.sources.diff import Difference, diff_sorted
from monitor.sources.events import difference_events
from monitor.sources.reader import TableSpec, read_rows, source_of, table_spec, with_key_types

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 60


def poller_producer_options(settings: Settings) -> dict[str, Any]:
    """The poller's producer: the dead-letter producer's safety, with larger batches.

    A first read publishes every row; kafka-python's 16 KB default batches made it
    send-bound (scripts/bench_sources.py).
    """
    from monitor.kafka.ingest.kafka_options import producer_options

    return producer_options(settings.kafka) | {"batch_size": 256 * 1024, "linger_ms": 20}


class SourceUnavailable(RuntimeError):
    """The source database cannot be reached; the message says where and why, without secrets."""


@dataclass
class TableReport:
    """What one pass did to one table."""

    topic: str
    rows: int = 0
    first_read: bool = False
    ops: dict[str, int] = field(default_factory=lambda: {"r": 0, "c": 0, "u": 0, "d": 0})


def source_engine(url: str) -> Engine:
    """An engine for a source database; Oracle through python-oracledb in thin mode (no client).

    ``hide_parameters``: a logged SQL error must not carry row values.
    """
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except (NoSuchModuleError, ImportError, ValueError) as error:
        raise SourceUnavailable(f"cannot use source URL: {error}") from None


def probe(engine: Engine) -> None:
    """Connect once, so that a wrong URL or a closed port is said before anything starts."""
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        raise SourceUnavailable(describe_connection_error(engine, error)) from None


def describe_connection_error(engine: Engine, error: BaseException) -> str:
    """``where: first line of the driver's message`` (no password, no stack trace)."""
    where = engine.url.render_as_string(hide_password=True)
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"cannot read {where}: {lines[0] if lines else type(original).__name__}"


def tables_of(
    settings: Settings, source: str, *, dialect_name: str, schema: str | None = None
) -> list[TableSpec]:
    """The configured tables of ``source`` (topics whose segment before SCHEMA.TABLE is it)."""
    poller = settings.source
    specs = []
    for topic, mapping in settings.sources.topics.items():
        if topic.count(".") < 2 or source_of(topic) != source:
            continue
        table_schema = schema or poller.schemas.get(source)
        if table_schema is None and dialect_name == "oracle":
            table_schema = topic.split(".")[-2]
        specs.append(
            table_spec(
                topic, mapping, schema=table_schema, key_columns=poller.key_columns.get(topic)
            )
        )
    return specs


class SourcePoller:
    """Reads one source's tables and publishes their differences to Kafka."""

    def __init__(
        self,
        settings: Settings,
        source: str,
        source_db: Engine,
        store: Engine,
        producer: KafkaProducer,
        *,
        metrics: Metrics | None = None,
        clock: Clock | Callable[[], datetime],
        schema: str | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.source_db = source_db
        self.store = store
        self.producer = producer
        self.metrics = metrics
        self.clock = as_clock(clock)
        self.batch_size = settings.source.batch_size
        self.tables = tables_of(
            settings, source, dialect_name=source_db.dialect.name, schema=schema
        )
        if not self.tables:
            raise ValueError(f"no topic of source {source!r} in sources.topics")

    def run_pass(self) -> list[TableReport]:
        """Read every table once; ``SourceUnavailable`` when the source cannot be read."""
        started = self.clock.monotonic()
        reports = [self._poll_table(spec) for spec in self.tables]
        if self.metrics is not None:
            elapsed = self.clock.monotonic() - started
            self.metrics.source_poll_seconds.labels(self.source).set(elapsed)
            self.metrics.source_poll_last_success.labels(self.source).set(
                self.clock.now().timestamp()
            )
        return reports

    def _poll_table(self, configured: TableSpec) -> TableReport:
        report = TableReport(configured.topic)
        now = self.clock()
        ts_ms = epoch_ms(now)
        try:
            with self.source_db.connect() as src, self.store.connect() as previous:
                spec = with_key_types(src, configured)
                report.first_read = not checkpoint.has_checkpoint(previous, spec.topic)

                def counted() -> Any:
                    for row in read_rows(src, spec, self.batch_size):
                        report.rows += 1
                        yield row

                pending: list[Difference] = []
                stored = checkpoint.stream(previous, spec.topic, self.batch_size)
                for difference in diff_sorted(counted(), stored):
                    pending.append(difference)
                    if len(pending) >= self.batch_size:
                        self._flush(spec, pending, ts_ms, report, now)
                        pending = []
                self._flush(spec, pending, ts_ms, report, now)
        except DBAPIError as error:
            raise SourceUnavailable(describe_connection_error(self.source_db, error)) from None
        if self.metrics is not None:
            self.metrics.source_poll_rows.labels(spec.topic).set(report.rows)
        log.info("polled %s: %d rows, %s", spec.topic, report.rows, report.ops)
        return report

    def _flush(
        self,
        spec: TableSpec,
        differences: Sequence[Difference],
        ts_ms: int,
        report: TableReport,
        now: datetime,
    ) -> None:
        if not differences:
            return
        with self.store.connect() as conn:
            previous = checkpoint.previous_rows(
                conn, spec.topic, [d.key for d in differences if d.op != "c"]
            )
        messages: list[OutgoingMessage] = []
        for difference in differences:
            for message in difference_events(
                spec,
                difference,
                previous.get(difference.key),
                ts_ms=ts_ms,
                first_read=report.first_read,
            ):
                messages.append(message)
                if message.value is not None:
                    op = str(message.value["op"])
                    report.ops[op] += 1
                    if self.metrics is not None:
                        self.metrics.source_poll_events.labels(spec.topic, op).inc()
        self._send(messages)
        with self.store.begin() as conn:
            checkpoint.write(conn, spec.topic, differences, now)

    def _send(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send and wait for every acknowledgement: the checkpoint moves only after Kafka has them."""
        futures = [
            self.producer.send(
                m.topic, key=m.key.encode() if m.key is not None else None, value=encode(m.value)
            )
            for m in messages
        ]
        self.producer.flush()
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_SECONDS)
