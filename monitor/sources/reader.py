"""Read one source table with one streamed SQLAlchemy Core query, in binary key order.

The same statement serves Oracle (REFER, python-oracledb in thin mode),
MySQL/MariaDB and PostgreSQL (Moodle): ``SELECT <mapped columns> FROM
<schema>.<table> ORDER BY <key columns>``, text keys compared in binary
(``NLSSORT(..., 'NLS_SORT=BINARY')``, ``CAST(... AS BINARY)``, ``COLLATE "C"``)
so that the order is the one ``diff.encode_key`` gives in Python. Rows come
through a server-side cursor (``stream_results``), ``batch_size`` at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    LargeBinary,
    Select,
    cast,
    column,
    func,
    inspect,
    literal_column,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.types import String, TypeEngine

from monitor.config import TopicMapping
from monitor.sources.diff import encode_key
from monitor.store.entities import ENTITIES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)


class SourceTableError(RuntimeError):
    """A configured table or column is not in the source database."""


@dataclass(frozen=True)
class TableSpec:
    """What the poller reads of one topic's table."""

    topic: str
    source: str  # "refer", "moodle": the topic's segment before <SCHEMA>.<TABLE>
    schema: str | None
    name: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    text_keys: frozenset[str] = frozenset()  # key columns of a text type (binary-ordered)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def source_of(topic: str) -> str:
    """``refer`` for ``refer.REFER.T_ADE_ACTIVITES`` (and for ``t1234.refer.REFER.…``)."""
    parts = topic.split(".")
    if len(parts) < 3:
        raise ValueError(f"topic {topic!r} is not <prefix>.<SCHEMA>.<TABLE>")
    return parts[-3]


def table_spec(
    topic: str,
    mapping: TopicMapping,
    *,
    schema: str | None,
    key_columns: Sequence[str] | None = None,
) -> TableSpec:
    """The columns of ``topic``'s table the mapping reads, and its key (from the entity's key)."""
    spec = ENTITIES[mapping.entity]
    field_to_column = {f: c for c, f in mapping.columns.items()}
    keys = tuple(key_columns) if key_columns else tuple(field_to_column[f] for f in spec.key_fields)
    columns = [*mapping.columns, *(rule.column for rule in mapping.membership.values()), *keys]
    return TableSpec(
        topic=topic,
        source=source_of(topic),
        schema=schema,
        name=topic.split(".")[-1],
        columns=tuple(dict.fromkeys(columns)),
        key_columns=keys,
    )


def with_key_types(conn: Connection, spec: TableSpec) -> TableSpec:
    """``spec`` checked against the database's catalogue, with the text key columns marked."""
    inspector = inspect(conn)
    try:
        found = {
            c["name"].lower(): c["type"] for c in inspector.get_columns(spec.name, spec.schema)
        }
    except Exception as error:  # NoSuchTableError, or the dialect's own error
        raise SourceTableError(f"table {spec.qualified}: {type(error).__name__}") from None
    if not found:
        raise SourceTableError(f"table {spec.qualified} does not exist or is not readable")
    missing = [c for c in spec.columns if c.lower() not in found]
    if missing:
        raise SourceTableError(f"table {spec.qualified} has no column(s) {', '.join(missing)}")
    text = frozenset(k for k in spec.key_columns if _is_text(found[k.lower()]))
    return TableSpec(**{**spec.__dict__, "text_keys": text})


def _is_text(kind: TypeEngine[Any]) -> bool:
    return isinstance(kind, String)


def select_rows(spec: TableSpec, dialect_name: str) -> Select[Any]:
    """``SELECT columns FROM table ORDER BY key`` in binary order, for ``dialect_name``."""
    # quote=None: SQLAlchemy quotes only what needs it, so Oracle's upper-case names stay bare.
    source = table(spec.name, *(column(c) for c in spec.columns), schema=spec.schema)
    order = [
        _binary(source.c[k], dialect_name) if k in spec.text_keys else source.c[k]
        for k in spec.key_columns
    ]
    return select(*(source.c[c] for c in spec.columns)).order_by(*order)


def _binary(col: ColumnClause[Any], dialect_name: str) -> ColumnElement[Any]:
    if dialect_name == "oracle":
        return func.nlssort(col, literal_column("'NLS_SORT=BINARY'"))
    if dialect_name in ("mysql", "mariadb"):
        return cast(col, LargeBinary)
    if dialect_name == "postgresql":
        return col.collate("C")
    return col  # SQLite compares text in binary already


def json_value(value: Any) -> Any:
    """A column value as Debezium's JSON converter writes it (``decimal.handling.mode=double``).

    Dates and timestamps become epoch milliseconds (Oracle DATE, TIMESTAMP; naive
    values are taken as UTC, as Debezium does), SQL DATEs epoch days, binary base64.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, date):
        return (value - _EPOCH_DAY).days
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, timedelta):
        return value // timedelta(microseconds=1)
    return str(value)


def row_digest(row_json: str) -> str:
    return hashlib.blake2b(row_json.encode(), digest_size=16).hexdigest()


def read_rows(
    conn: Connection, spec: TableSpec, batch_size: int
) -> Iterator[tuple[bytes, str, str]]:
    """``(key, row_hash, row_json)`` of every row, in binary key order, ``batch_size`` at a time."""
    statement = select_rows(spec, conn.dialect.name)
    streamed = conn.execution_options(stream_results=True, yield_per=batch_size)
    key_index = [spec.columns.index(k) for k in spec.key_columns]
    for record in streamed.execute(statement):
        values = [json_value(v) for v in record]
        row_json = json.dumps(
            dict(zip(spec.columns, values, strict=True)), ensure_ascii=False, separators=(",", ":")
        )
        yield encode_key([values[i] for i in key_index]), row_digest(row_json), row_json
