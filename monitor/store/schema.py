"""The state store's tables (SQLAlchemy Core), one metadata for Alembic.

Canonical fact tables are derived from the entity registry: a ``key`` (the
natural key joined), one column per fact field, and the version of the change
the row came from (``source_ts`` in epoch ms, then ``source_seq``: Oracle SCN
or binlog position) so that an older event never overwrites a newer one.
Deleted source rows are kept as tombstones (``tombstone``) for the same reason,
and because R2 needs to know when an ELP vanished. The alert tables belong to
``alerts.tables``; both share one metadata.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.types import VARBINARY, TypeEngine

from alerts.tables import metadata
from monitor.store import web_session as _web_session  # noqa: F401  (its table, same metadata)
from monitor.store.entities import ENTITIES, EntityName, FieldKind

_STORAGE: dict[FieldKind, TypeEngine[Any]] = {
    "str": String(255),
    "int": BigInteger(),
    "bool": Boolean(),
    "datetime": DateTime(),
    "list": JSON(),
}


def _fact_table(name: EntityName) -> Table:
    spec = ENTITIES[name]
    columns: list[Column[Any]] = [Column("key", String(512), primary_key=True)]
    for field_name, kind in spec.fields().items():
        columns.append(Column(field_name, _STORAGE[kind], nullable=True))
    columns += [
        Column("source_ts", BigInteger, nullable=False),
        Column("source_seq", BigInteger, nullable=False, default=0),
        Column("tombstone", Boolean, nullable=False, default=False),
        Column("ingested_at", DateTime, nullable=False),
    ]
    table = Table(spec.table_name, metadata, *columns)
    for field_name in spec.indexed:
        Index(f"ix_{spec.table_name}_{field_name}", table.c[field_name])
    Index(f"ix_{spec.table_name}_source_ts", table.c.source_ts)
    return table


# Canonical views derived from other rows (``Entity.stored`` False) have no table.
fact_tables: dict[EntityName, Table] = {
    name: _fact_table(name) for name, spec in ENTITIES.items() if spec.stored
}

ingest_progress = Table(
    "ingest_progress",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("last_offset", BigInteger, nullable=False),
    Column("last_source_ts", BigInteger),
    Column("events", BigInteger, nullable=False, default=0),
    Column("dead_lettered", BigInteger, nullable=False, default=0),
    Column("updated_at", DateTime, nullable=False),
)

# ELPs whose facts changed since the detectors last looked at them ("ahead of the night").
dirty_elp = Table(
    "dirty_elp",
    metadata,
    Column("cod_elp", String(64), primary_key=True),
    Column("since", DateTime, nullable=False),
    # Bumped each time a batch marks the ELP again: a pass deletes only the generation it read.
    Column("generation", BigInteger, nullable=False, default=0, server_default="0"),
    # The worker whose ahead pass took the ELP, and when (epoch ms): expired claims are free.
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_at_ms", BigInteger, nullable=True),
    # The ELP's own row changed (created, edited, deleted: the offer): checked before the
    # ELPs marked by their students' or courses' rows (issue 13: latency under traffic).
    Column("offer_changed", Boolean, nullable=False, default=False, server_default=false()),
)

# Small durable cursors of the pipeline, e.g. the last sync run the after-run detectors handled.
pipeline_cursor = Table(
    "pipeline_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# The source poller's previous read of each table (monitor.sources): one row per source row,
# keyed by its order-preserving key bytes so that it streams in the source's binary key order.
source_checkpoint = Table(
    "source_checkpoint",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("key", VARBINARY(512), primary_key=True),
    Column("row_hash", String(32), nullable=False),
    # The row itself: a delete event carries the row as it was ("before"), as Debezium's does.
    Column("row_json", Text, nullable=False),
    Column("read_at", DateTime, nullable=False),
)

# Source rows whose latest change was dead-lettered: detection holds what depends on them.
# One row per topic and message key; deleted when a valid change of the same key
# arrives (superseded) or an operator clears it (``ecampus-monitor dlq clear``).
dead_letter_entity = Table(
    "dead_letter_entity",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("message_key", String(255), primary_key=True),
    Column("cod_elp", String(64), index=True),
    Column("reason", String(64), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("first_at", DateTime, nullable=False),
    Column("last_at", DateTime, nullable=False),
)

# The detection lease (``monitor.coordination``) shares this metadata; imported for Alembic.
from monitor.coordination.tables import coordination_lease, coordination_worker  # noqa: E402, F401
