"""The generated row builders and MariaDB literals give what the generic paths gave (issue 13).

``bulk_rows`` inlines each column's bind processor and, on MariaDB, writes the
common values' literals itself. On generated rows of every fact table, both
dialects: the same tuple as each value through its processor in a loop, and
the same text as each value through pymysql's ``escape``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from types import SimpleNamespace
from typing import Any

import pymysql
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from monitor.store.bulk import TableStatements, _naive_utc
from monitor.store.schema import fact_tables

DIALECTS = {"sqlite": SQLiteDialect_pysqlite(), "mariadb": MySQLDialect_pymysql()}
TABLES = sorted(fact_tables)

_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "O'Brien", "a\\b", 'dit "x"', "\x00\x1a\n\r", "é\u2028", "%s %(x)s"]),
)
_moment = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.none()
)
_value = st.one_of(
    st.none(),
    _text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    _moment,
    _moment.map(lambda m: m.replace(tzinfo=timezone(timedelta(hours=2)))),
    st.lists(st.text(max_size=3), max_size=2),
    st.floats(allow_nan=False, allow_infinity=False),
)


@cache
def _escape() -> Any:
    """pymysql's escaping, of one connection never opened (made once: each builds an SSL context)."""
    connection = pymysql.connections.Connection(defer_connect=True, charset="utf8mb4")
    connection.server_status = 0
    return connection.escape


@cache
def _statements(name: str, dialect: str) -> TableStatements:
    """A table's statements (made once: each generates and compiles its row builders)."""
    return TableStatements(fact_tables[name], SimpleNamespace(dialect=DIALECTS[dialect]))  # type: ignore[index, arg-type]


def _reference_row(sql: TableStatements, table: Any, dialect: Any, values: dict[str, Any]) -> Any:
    """As ``TableStatements.row`` was: the row, then each value but the last through its processor."""
    row = [values["key"], *map(values.get, sql.fields), 5, 0, values.get("tombstone"), "at"]
    for index, column in enumerate(table.columns[:-1]):
        process = column.type._cached_bind_processor(dialect)
        if isinstance(column.type, DateTime):
            row[index] = _naive_utc(row[index])
        if process is not None:
            row[index] = process(row[index])
    return tuple(row)


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except (TypeError, ValueError) as error:
        return type(error)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", TABLES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_generated_row_is_each_value_through_its_processor(
    dialect: str, name: str, data: st.DataObject
) -> None:
    table = fact_tables[name]  # type: ignore[index]
    sql = _statements(name, dialect)
    values = {c: data.draw(_value) for c in sql.fields if data.draw(st.booleans())}
    values |= {"key": data.draw(_text), "tombstone": data.draw(st.sampled_from([True, False]))}
    generated = _outcome(sql.row, values["key"], values, (5, 0), values["tombstone"], "at")
    assert generated == _outcome(_reference_row, sql, table, DIALECTS[dialect], values)


@pytest.mark.parametrize("name", TABLES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_generated_literals_are_pymysqls(name: str, data: st.DataObject) -> None:
    sql = _statements(name, "mariadb")
    escape = _escape()
    rows = data.draw(st.lists(st.tuples(*[_value for _ in sql.columns]), min_size=1, max_size=3))

    def generic(value: Any) -> str:
        if type(value) is int:
            return str(value)
        return "NULL" if value is None else escape(value)  # type: ignore[no-any-return]

    expected = ["(" + ",".join(map(generic, row)) + ")" for row in rows]
    assert sql._literal_rows is not None
    assert sql._literal_rows(rows, escape) == expected


def test_bound_rows_of_every_kind_read_as_literals() -> None:
    """A row as ``row`` binds it for MariaDB: text, integers, booleans, naive dates, JSON."""
    table = fact_tables["sync_run"]
    sql = TableStatements(table, SimpleNamespace(dialect=DIALECTS["mariadb"]))  # type: ignore[arg-type]
    started = datetime(2026, 12, 6, 3, 0, 0, 250, tzinfo=UTC)
    values = {"run_id": "r'1", "started_at": started, "status": "ok", "messages": [{"a": "é"}]}
    row = sql.row("r'1", values, (7, 1), False, datetime(2026, 12, 6, 4))
    assert sql._literal_rows is not None
    (literal,) = sql._literal_rows([row], _escape())
    assert literal == (
        r"""('r\'1','r\'1','2026-12-06 03:00:00.000250',NULL,'ok',NULL,NULL,NULL,NULL,"""
        r"""'[{\"a\": \"\\u00e9\"}]',7,1,0,'2026-12-06 04:00:00')"""
    )
