"""Step 3: a batch's changes and its ``ingest_progress`` rows, in ONE state-store transaction.

Kafka offsets are committed only after this returns, so a crash in between
re-delivers the batch: the changes re-apply idempotently (``apply_changes``)
and the progress counters only count offsets beyond the stored
``last_offset``, so they do not double either.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from monitor.kafka.mapping import Change
from monitor.store.apply import AppliedBatch, apply_changes
from monitor.store.bulk import bound, execute_many
from monitor.store.schema import ingest_progress

_MYSQL_NO_SUCH_TABLE = 1146

# What a database or its driver raises about one row's values (too long, out of range,
# not encodable, of a type it cannot bind), as opposed to an outage.
DATA_ERRORS = (
    DataError,
    IntegrityError,
    ProgrammingError,
    OverflowError,
    UnicodeError,
    ValueError,
    TypeError,
)


class StoreUnavailable(Exception):
    """The state store cannot be reached: pause consumption, keep the batch, retry later."""


class StoreRejected(Exception):
    """The store refused the batch's data, reachable as it is: find and dead-letter the culprits."""


@dataclass
class PartitionProgress:
    """What one batch consumed from one partition.

    ``events`` counts every message (changes, tombstones and dead-lettered
    ones); ``dead_lettered`` counts those sent to the dead-letter topic.
    """

    topic: str
    partition: int
    offsets: list[int] = field(default_factory=list)
    dead_lettered_offsets: list[int] = field(default_factory=list)
    newest_source_ts: int | None = None

    def consumed(self, offset: int, source_ts: int | None = None) -> None:
        self.offsets.append(offset)
        if source_ts is not None and (
            self.newest_source_ts is None or source_ts > self.newest_source_ts
        ):
            self.newest_source_ts = source_ts

    def dead_lettered(self, offset: int) -> None:
        self.offsets.append(offset)
        self.dead_lettered_offsets.append(offset)

    def rejected(self, offset: int) -> None:
        """A consumed offset whose change the store refused: dead-lettered after all."""
        if offset not in self.dead_lettered_offsets:
            self.dead_lettered_offsets.append(offset)


def is_store_outage(error: BaseException) -> bool:
    """Whether ``error`` means "the store is unreachable" (retry) rather than a bug (crash)."""
    if isinstance(error, PoolTimeoutError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
            return True
        # MySQL's "table doesn't exist" (1146) while a schema is being created or migrated:
        # wait for it, as SQLite's "no such table" (an OperationalError) already does.
        return getattr(error.orig, "args", (None,))[0] == _MYSQL_NO_SUCH_TABLE
    return False


def persist_batch(
    engine: Engine,
    changes: Sequence[Change],
    progress: Iterable[PartitionProgress],
    now: datetime,
) -> AppliedBatch:
    """Apply ``changes`` and record ``progress`` in one transaction.

    ``StoreUnavailable`` on an outage, ``StoreRejected`` when the store refused the data.
    """
    try:
        with engine.begin() as conn:
            applied = apply_changes(conn, changes, now)
            started = time.perf_counter()
            record_progress(conn, progress, now)
            committing = time.perf_counter()
            applied.seconds["apply"] = applied.seconds.get("apply", 0.0) + committing - started
    except Exception as error:
        raise store_error(error) from error
    applied.seconds["store_commit"] = time.perf_counter() - committing
    return applied


def store_error(error: Exception) -> Exception:
    """``error`` as the ingest loop must handle it: an outage, rejected data, or itself (a bug)."""
    if is_store_outage(error):
        return StoreUnavailable(f"{type(error).__name__}: {_first_line(error)}")
    if isinstance(error, DATA_ERRORS):
        return StoreRejected(f"{type(error).__name__}: {_first_line(error)}")
    return error


def _first_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return lines[0] if lines else ""


def record_progress(conn: Connection, progress: Iterable[PartitionProgress], now: datetime) -> None:
    """Upsert one ``ingest_progress`` row per partition, counting only offsets not seen before.

    Two statements whatever the number of partitions: read the stored rows, then one upsert
    of every partition's row (an ``executemany``: pymysql folds it into one multi-row
    statement). An UPDATE per stored partition was one MariaDB round trip each, 10 µs a
    message in batches over 120 partitions (issue 13).
    """
    table = ingest_progress
    parts = [part for part in progress if part.offsets]
    if not parts:
        return
    stored = {
        (row.topic, row.partition): row
        for row in conn.execute(
            select(
                table.c.topic, table.c.partition, table.c.last_offset, table.c.last_source_ts
            ).where(table.c.topic.in_(sorted({part.topic for part in parts})))
        )
    }
    updated_at = bound(conn, table.c.updated_at, now.astimezone(UTC).replace(tzinfo=None))
    rows: list[tuple[object, ...]] = []
    for part in parts:
        row = stored.get((part.topic, part.partition))
        if row is None:  # new: the counts as they are
            last_offset, last_source_ts = max(part.offsets), part.newest_source_ts
            events, dead = len(part.offsets), len(part.dead_lettered_offsets)
        else:  # stored: what it adds to the counts, offsets seen before left out
            seen = row.last_offset
            last_offset = max(seen, *part.offsets)
            last_source_ts = max(
                (ts for ts in (row.last_source_ts, part.newest_source_ts) if ts is not None),
                default=None,
            )
            events = sum(1 for o in part.offsets if o > seen)
            dead = sum(1 for o in part.dead_lettered_offsets if o > seen)
        rows.append(
            (part.topic, part.partition, last_offset, last_source_ts, events, dead, updated_at)
        )
    execute_many(conn, _progress_upsert(conn), rows)


def _progress_upsert(conn: Connection) -> str:
    """INSERT a partition's row, or set its offsets and add to its counts (``rows`` of
    ``record_progress``)."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    columns = [c.name for c in ingest_progress.columns]
    names = ", ".join(map(quote, columns))
    table = quote(ingest_progress.name)
    if conn.dialect.name == "sqlite":
        new, conflict = "excluded.{}", " ON CONFLICT ({}, {}) DO UPDATE SET "
        marks = ", ".join("?" * len(columns))
    else:
        new, conflict = "VALUES({})", " ON DUPLICATE KEY UPDATE "
        marks = ", ".join(["%s"] * len(columns))
    sets = []
    for name in ("last_offset", "last_source_ts", "events", "dead_lettered", "updated_at"):
        value = new.format(quote(name))
        if name in ("events", "dead_lettered"):
            value = f"{table}.{quote(name)} + {value}"
        sets.append(f"{quote(name)} = {value}")
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks})"
        + conflict.format(quote("topic"), quote("partition"))
        + ", ".join(sets)
    )
