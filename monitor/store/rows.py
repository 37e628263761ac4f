"""Rows of the state store as facts: the columns to read, and the conversion, fast.

At ``unicaen`` scale the whole state is 1.7 M rows; building facts field by
field, by name, was most of ``load_facts``' time. A row is read as the fact's
fields in declaration order, then ``source_ts`` (the fact's ``as_of``, always
its last field), and passed positionally; only the columns that need it are
converted.

Rows share their values: a snapshot's rows one ``source_ts`` (Debezium stamps
them by the millisecond), ADE's sessions a few teacher and group lists. Those
two conversions (``datetime.fromtimestamp``, ``json.loads``) were a fifth of a
whole load; each is kept for the values seen last (``as_of_ms``,
``_string_list``), immutable results only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, Text, select, type_coerce

from detectors.facts import RunMessage
from monitor.store.entities import ENTITIES, EntityName, FieldKind
from monitor.store.schema import fact_tables

# SQLite accepts at most 32766 bound parameters; stay well under for the IN lists.
_CHUNK = 500

Convert = Callable[[Sequence[Any]], Any]
_KEPT = 1 << 16  # values kept by each conversion cache (about 6 MB of datetimes at most)


@lru_cache(maxsize=_KEPT)
def as_of_ms(source_ts: int) -> datetime:
    """A row's ``source_ts`` (epoch milliseconds) as its fact's ``as_of``, in UTC."""
    return datetime.fromtimestamp(source_ts / 1000, tz=UTC)


@lru_cache(maxsize=_KEPT)
def _string_list(stored: str) -> tuple[str, ...]:
    """A stored JSON list of strings (teachers, group ids) as the fact's tuple; JSON null: ()."""
    return tuple(json.loads(stored) or ())


def row_converter(name: EntityName) -> tuple[list[ColumnElement[Any]], Convert]:
    """The columns to select for ``name``'s facts, and the function making a fact of such a row."""
    spec = ENTITIES[name]
    table = fact_tables[name]
    kinds = spec.fields()
    declared = dataclasses.fields(spec.fact)
    if [f.name for f in declared] != [*kinds, "as_of"]:
        raise TypeError(f"{spec.fact.__name__}: as_of must be the last field")
    runs = name == "sync_run"  # its list is of run messages; every other list is of strings
    fixes: list[tuple[int, Callable[[Any], Any]]] = []
    for index, field in enumerate(declared[:-1]):
        fix = _column_fix(kinds[field.name], field.default, runs=runs)
        if fix is not None:
            fixes.append((index, fix))
    fact = spec.fact

    def convert(row: Sequence[Any]) -> Any:
        values = list(row)
        for index, fix in fixes:
            values[index] = fix(values[index])
        values[-1] = as_of_ms(values[-1])
        return fact(*values)

    columns: list[ColumnElement[Any]] = [
        # Lists of strings are read as stored and decoded here (``_string_list``).
        type_coerce(table.c[f], Text) if kind == "list" and not runs else table.c[f]
        for f, kind in kinds.items()
    ]
    return [*columns, table.c.source_ts], convert


def _column_fix(kind: FieldKind, default: Any, *, runs: bool) -> Callable[[Any], Any] | None:
    """How a stored value becomes the fact's: dates in UTC, lists as tuples, NULL as the default."""
    if kind == "datetime":
        return lambda value: value.replace(tzinfo=UTC) if value is not None else None
    if kind == "list" and runs:
        return lambda value: tuple(RunMessage(**item) for item in value or ())
    if kind == "list":
        return lambda value: _string_list(value) if value is not None else ()
    if default is not None and default is not dataclasses.MISSING:
        return lambda value: default if value is None else value
    return None


def load_rows(
    conn: Connection,
    name: EntityName,
    where: ColumnElement[bool] | None = None,
    *,
    tombstones: bool = False,
) -> list[Any]:
    """The facts of ``name`` (live ones, or the tombstones), optionally filtered."""
    table: Table = fact_tables[name]
    columns, convert = row_converter(name)
    statement = select(*columns).where(table.c.tombstone == tombstones)
    if where is not None:
        statement = statement.where(where)
    return [convert(row) for row in conn.execute(statement).all()]


def load_rows_in(
    conn: Connection, name: EntityName, column: str, values: Iterable[Any]
) -> list[Any]:
    """The live facts of ``name`` whose ``column`` is one of ``values``, in chunks."""
    wanted = sorted(set(values))
    found: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.extend(load_rows(conn, name, fact_tables[name].c[column].in_(chunk)))
    return found
