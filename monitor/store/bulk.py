"""A fact table's hot statements, compiled once per backend: one round trip per table and batch.

``apply_changes`` writes tens of thousands of rows a second; building each row
through SQLAlchemy's compiler (bind parameters by name, one processor call per
value through its machinery) cost more than the database itself (issue 13).
Here each statement is plain SQL: SQLite's ``executemany`` loops in C; on MariaDB
``multi_row`` writes multi-row statements as pymysql's ``executemany`` would, with
cheaper literals. Each value goes through the column type's own bind processor, so
the stored form is the one SQLAlchemy writes (SQLite's datetime text, JSON lists,
booleans).

- ``versions``: the stored version of keys, one ``IN`` query per chunk;
- ``insert``: new rows, plain INSERT (a key the store already holds, e.g. one
  MariaDB's collation compares equal, fails as before and is isolated);
- ``update``: rows the store holds, guarded by the version in the statement, so
  that two workers racing on a key can never regress it: SQLite
  ``UPDATE ... WHERE (source_ts, source_seq) <= (?, ?)``; MariaDB a multi-row
  ``INSERT ... ON DUPLICATE KEY UPDATE col = IF(guard, VALUES(col), col)`` with
  the version columns last (assignments see the values set before them).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pymysql
from pymysql.constants import SERVER_STATUS
from pymysql.converters import escape_string
from sqlalchemy import Boolean, Connection, DateTime, Table
from sqlalchemy.types import TypeEngine

from monitor.store.bulk_rows import LiteralRows, compile_literal_rows, compile_row_builder

# SQLite before 3.32 bound at most 999 parameters; MariaDB takes any (max_allowed_packet).
IN_CHUNK = {"sqlite": 500}
DEFAULT_IN_CHUNK = 2000

Processor = Callable[[Any], Any] | None
_VERSION_COLUMNS = ["source_ts", "source_seq", "tombstone", "ingested_at"]


def _naive_utc(value: Any) -> Any:
    # DateTime columns are stored naive, in UTC, on every backend.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class TableStatements:
    """The SQL and the value processors of one fact table on one dialect."""

    def __init__(self, table: Table, conn: Connection) -> None:
        dialect = conn.dialect
        self.dialect = dialect.name
        quote = dialect.identifier_preparer.quote
        self.columns = [c.name for c in table.columns]
        if self.columns[0] != "key" or self.columns[-4:] != _VERSION_COLUMNS:
            raise ValueError(f"{table.name}: not a fact table (key, fields, version columns)")
        self.fields = self.columns[1:-4]
        # Applied to each value but ``ingested_at`` (one per batch, bound once by the caller).
        processors: dict[int, Callable[[Any], Any]] = {}
        kinds: list[str] = []  # what the bound values of each column usually are (literals)
        for index, column in enumerate(table.columns):
            bind: Processor = column.type._cached_bind_processor(dialect)  # SQLAlchemy's own
            if isinstance(column.type, DateTime):
                bind = _chain(_naive_utc, bind)
            if bind is not None and column.name != "ingested_at":
                processors[index] = bind
            kinds.append(_literal_kind(column.type, bind))
        booleans = {i for i, c in enumerate(table.columns) if isinstance(c.type, Boolean)}
        self.row_of = compile_row_builder(self.fields, processors, booleans)
        self._literal_rows = compile_literal_rows(kinds) if self.dialect != "sqlite" else None
        self.bind_ingested_at = _chain(
            _naive_utc, table.c.ingested_at.type._cached_bind_processor(dialect)
        )
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        name = quote(table.name)
        names = [quote(c) for c in self.columns]
        marks = ", ".join([mark] * len(names))
        self.in_chunk = IN_CHUNK.get(self.dialect, DEFAULT_IN_CHUNK)
        self._mark = mark
        self._versions = (
            f"SELECT {quote('key')}, source_ts, source_seq FROM {name} WHERE {quote('key')} IN "
        )
        self.insert_sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({marks})"
        others = [c for c in self.columns if c != "key"]
        if self.dialect == "sqlite":
            self.update_sql = (
                f"UPDATE {name} SET {', '.join(f'{quote(c)} = ?' for c in others)} "
                f"WHERE {quote('key')} = ? AND (source_ts, source_seq) <= (?, ?)"
            )
            self.update_order = [*others, "key", "source_ts", "source_seq"]
        else:
            guard = "(VALUES(source_ts), VALUES(source_seq)) >= (source_ts, source_seq)"
            # The version last, source_ts after source_seq: the guard still holds while they change.
            ordered = [c for c in others if c not in ("source_ts", "source_seq")]
            ordered += ["source_seq", "source_ts"]
            sets = ", ".join(
                f"{quote(c)} = IF({guard}, VALUES({quote(c)}), {quote(c)})" for c in ordered
            )
            self.update_sql = f"{self.insert_sql} ON DUPLICATE KEY UPDATE {sets}"
            self.update_order = self.columns
        position = {c: i for i, c in enumerate(self.columns)}
        self._update_order = operator.itemgetter(*(position[c] for c in self.update_order))

    def versions(self, conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        """The stored ``(source_ts, source_seq)`` of those of ``keys`` the table holds."""
        found: dict[str, tuple[int, int]] = {}
        literal = self.dialect != "sqlite" and _escapes_backslashes(conn)
        for start in range(0, len(keys), self.in_chunk):
            chunk = tuple(keys[start : start + self.in_chunk])
            if literal and all(key.__class__ is str for key in chunk):
                # The keys written in, as pymysql would (its per-value escaping: issue 13).
                quoted = ",".join(["'" + escape_string(key) + "'" for key in chunk])
                rows = conn.exec_driver_sql(
                    f"{self._versions}({quoted})", execution_options=_LITERAL
                )
            else:
                sql = self._versions + "(" + ", ".join([self._mark] * len(chunk)) + ")"
                rows = conn.exec_driver_sql(sql, chunk)
            for key, ts, seq in rows:
                found[key] = (ts, seq)
        return found

    def row(
        self,
        key: str,
        values: dict[str, Any],
        version: tuple[int, int],
        tombstone: bool,
        ingested_at: Any,
    ) -> tuple[Any, ...]:
        """One row as the driver takes it (a field missing from ``values``: NULL).

        ``ingested_at`` as ``bind_ingested_at`` returned it.
        """
        return self.row_of(key, values, version, tombstone, ingested_at)

    def insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._many(conn, self.insert_sql, rows)

    def update(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Write ``rows`` over the stored ones whose version is not newer (checked in SQL)."""
        if rows:
            if self.dialect == "sqlite":
                rows = list(map(self._update_order, rows))
            self._many(conn, self.update_sql, rows)

    def _many(self, conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql(sql, rows)
            return
        if _escapes_backslashes(conn):
            multi_row(conn, sql, rows, self._literal_rows)
        else:  # quotes doubled, not escaped: pymysql's generic path
            multi_row(conn, sql, rows)


def _escapes_backslashes(conn: Connection) -> bool:
    """Whether ``conn`` is pymysql's, in a session whose text pymysql escapes with backslashes."""
    driver = conn.connection.driver_connection
    no_backslashes = SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
    return isinstance(driver, pymysql.connections.Connection) and not (
        driver.server_status & no_backslashes
    )


def _literal_kind(column_type: TypeEngine[Any], bind: Processor) -> str:
    """What a column's bound values usually are, for ``compile_literal_rows``."""
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, DateTime):
        return "datetime" if bind is _naive_utc else "other"  # no processor but the UTC one
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return "other"
    if bind is None and python_type in (str, int):
        return python_type.__name__
    return "str" if bind is not None and python_type in (list, dict) else "other"  # JSON text


def _chain(first: Callable[[Any], Any], then: Processor) -> Callable[[Any], Any]:
    if then is None:
        return first
    return lambda value: then(first(value))


_compiled: dict[tuple[str, str], TableStatements] = {}


def statements(conn: Connection, table: Table) -> TableStatements:
    """The statements of ``table`` for ``conn``'s dialect, compiled at the first use."""
    slot = (table.name, conn.dialect.name)
    compiled = _compiled.get(slot)
    if compiled is None:
        compiled = _compiled[slot] = TableStatements(table, conn)
    return compiled


def execute_many(conn: Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """``sql`` once per row in one driver call (a multi-row statement on pymysql)."""
    rows = list(rows)
    if rows:
        conn.exec_driver_sql(sql, rows)


# The statement holds its values: run it as is, its ``%`` signs are text, not placeholders.
_LITERAL = {"no_parameters": True}
# Below pymysql's own limit for one statement of an executemany (``Cursor.max_stmt_length``).
MAX_STATEMENT = 1_000_000


def multi_row(
    conn: Connection,
    sql: str,
    rows: list[tuple[Any, ...]],
    literal_rows: LiteralRows | None = None,
) -> None:
    """``INSERT ... VALUES (%s, ...) [ON DUPLICATE KEY UPDATE ...]`` for every row, as pymysql's
    ``executemany`` runs it (multi-row statements of at most ``MAX_STATEMENT`` characters).

    ``literal_rows``: the rows' literals, by the table's generated function
    (``bulk_rows.compile_literal_rows``); else each value is escaped by the connection's own
    ``escape`` but integers and NULLs, written directly: pymysql's generic path per value was
    half of the MariaDB apply (issue 13).
    """
    head, _, tail = sql.partition(" VALUES ")
    _placeholders, _, postfix = tail.partition(")")
    prefix = f"{head} VALUES "
    if not rows:
        return
    escape = conn.connection.driver_connection.escape  # type: ignore[union-attr]
    if literal_rows is None:
        literal_rows = _generic_literals(len(rows[0]))
    values: list[str] = []
    size = 0
    for text in literal_rows(rows, escape):
        if values and size + len(text) > MAX_STATEMENT:
            conn.exec_driver_sql(prefix + ",".join(values) + postfix, execution_options=_LITERAL)
            values, size = [], 0
        values.append(text)
        size += len(text) + 1
    if values:
        conn.exec_driver_sql(prefix + ",".join(values) + postfix, execution_options=_LITERAL)


@functools.cache
def _generic_literals(width: int) -> LiteralRows:
    return compile_literal_rows(["other"] * width)


def mark_dirty_sql(conn: Connection) -> str:
    """Mark an ELP dirty (``cod_elp``, ``since``, 0, ``offer_changed``) or, if it is, bump its
    generation (and keep it first in line if either mark was a change of its own row).

    Every value a parameter: pymysql folds only such an INSERT into one multi-row statement.
    """
    if conn.dialect.name == "sqlite":
        return (
            "INSERT INTO dirty_elp (cod_elp, since, generation, offer_changed) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (cod_elp) DO UPDATE SET generation = dirty_elp.generation + 1, "
            "offer_changed = dirty_elp.offer_changed OR excluded.offer_changed"
        )
    return (
        "INSERT INTO dirty_elp (cod_elp, since, generation, offer_changed) "
        "VALUES (%s, %s, %s, %s) "
        "ON DUPLICATE KEY UPDATE generation = generation + 1, "
        "offer_changed = offer_changed OR VALUES(offer_changed)"
    )


def bound(conn: Connection, column: Any, value: Any) -> Any:
    """``value`` as SQLAlchemy binds it for ``column`` on ``conn``'s dialect."""
    process = column.type._cached_bind_processor(conn.dialect)
    return process(value) if process is not None else value
