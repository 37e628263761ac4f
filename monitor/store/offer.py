"""The ELP offer kept between neighbourhood loads, brought up to date by what changed.

Every neighbourhood needs all ELPs, live and deleted (R2's "code changed"
compares labels across the offer): 14,000 rows at Unicaen, most of an
incremental load's time when read each pass, while a batch changes a few.

What tells a change: versions only grow in the store (``apply_changes``), and
every write stamps ``ingested_at``; so the row count, the sums of
``source_ts`` and ``source_seq`` and the newest ``ingested_at`` of the ``elp``
table move whenever a row is written, tombstoned or rewritten. When they
moved, only the rows written since the newest ``ingested_at`` kept are read
and merged; if the merged offer does not add up to the table's figures (a
batch stamped earlier but committed later), the whole offer is read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from detectors.facts import Elp
from monitor.store.rows import row_converter
from monitor.store.schema import fact_tables

Figures = tuple[int, int, int, datetime | None]  # rows, sum of source_ts, of source_seq, newest


@dataclass(frozen=True, slots=True)
class _Row:
    version: tuple[int, int]
    deleted: bool
    ingested_at: datetime
    elp: Elp


@dataclass(frozen=True, slots=True)
class _Reading:
    rows: dict[str, _Row]
    figures: Figures
    live: list[Elp]
    deleted: list[Elp]

    @classmethod
    def of(cls, rows: dict[str, _Row]) -> _Reading:
        figures: Figures = (
            len(rows),
            sum(r.version[0] for r in rows.values()),
            sum(r.version[1] for r in rows.values()),
            max((r.ingested_at for r in rows.values()), default=None),
        )
        return cls(
            rows,
            figures,
            [r.elp for r in rows.values() if not r.deleted],
            [r.elp for r in rows.values() if r.deleted],
        )


class ElpOffer:
    """The live and deleted ELPs of one store, kept between reads.

    One per store (a pipeline, an API process); safe to share between threads:
    a reading is replaced whole, never changed in place.
    """

    def __init__(self) -> None:
        self._reading: _Reading | None = None

    def read(self, conn: Connection) -> tuple[list[Elp], list[Elp]]:
        """The live and the deleted ELPs, as the store holds them now."""
        figures = _figures(conn)
        reading = self._reading
        if reading is None or reading.figures != figures:
            reading = _updated(conn, reading, figures) if reading is not None else None
            if reading is None:
                reading = _Reading.of(_rows(conn))
            self._reading = reading
        return reading.live, reading.deleted


def _figures(conn: Connection) -> Figures:
    table = fact_tables["elp"]
    count, sum_ts, sum_seq, newest = conn.execute(
        select(
            func.count(),
            func.sum(table.c.source_ts),
            func.sum(table.c.source_seq),
            func.max(table.c.ingested_at),
        )
    ).one()
    # MariaDB sums are DECIMAL, SQLite's integers; an empty table sums to NULL.
    return int(count), int(sum_ts or 0), int(sum_seq or 0), newest


def _updated(conn: Connection, kept: _Reading, figures: Figures) -> _Reading | None:
    """``kept`` with the rows written since, or None when that does not add up to ``figures``."""
    newest = kept.figures[3]
    if newest is None:
        return None
    rows = dict(kept.rows)
    rows.update(_rows(conn, fact_tables["elp"].c.ingested_at >= newest))
    updated = _Reading.of(rows)
    return updated if updated.figures == figures else None


def _rows(conn: Connection, where: ColumnElement[bool] | None = None) -> dict[str, _Row]:
    table = fact_tables["elp"]
    columns, convert = row_converter("elp")
    width = len(columns)
    statement = select(
        *columns, table.c.key, table.c.source_seq, table.c.tombstone, table.c.ingested_at
    )
    if where is not None:
        statement = statement.where(where)
    found: dict[str, _Row] = {}
    for row in conn.execute(statement):
        values: tuple[Any, ...] = tuple(row)
        key, seq, deleted, ingested_at = values[width:]
        found[key] = _Row(
            (values[width - 1], seq), bool(deleted), ingested_at, convert(values[:width])
        )
    return found
