"""Insert-or-update in one statement, on each backend of the state store (SQLite, MariaDB).

Workers of one consumer group write the same keys at once; a read-then-insert
lets the second fail on the primary key. The dialects' own constructs make the
database settle it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert


def upsert(
    dialect: str, table: Table, rows: Sequence[Mapping[str, Any]], on_conflict: Mapping[str, Any]
) -> Insert:
    """INSERT ``rows``; on a primary-key conflict set ``on_conflict`` (column -> value/expression).

    One multi-row statement: pymysql's executemany cannot rewrite one with ON DUPLICATE KEY.
    """
    if dialect == "sqlite":
        statement = sqlite_insert(table).values(list(rows))
        keys = list(table.primary_key.columns)
        return statement.on_conflict_do_update(index_elements=keys, set_=dict(on_conflict))
    if dialect in ("mysql", "mariadb"):
        return mysql_insert(table).values(list(rows)).on_duplicate_key_update(dict(on_conflict))
    raise NotImplementedError(f"no upsert for the {dialect} dialect")
