"""Apply a batch of canonical changes to the state store, idempotently.

Within a batch the newest change per key wins; against the store, a change is
written only if its version ``(source_ts, source_seq)`` is not older than the
row's. Applying the same events twice therefore gives the same state, and a
late, older event never overwrites a newer one. Deletes keep a tombstone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, literal_column, select, tuple_, update

from monitor.entities import EntityName
from monitor.mapping import Change
from monitor.store.moodle_dirty import courses_behind, unchanged_users
from monitor.store.schema import dirty_elp, fact_tables
from monitor.store.upsert import upsert

# SQLite accepts at most 32766 bound parameters; stay well under for the IN lists.
_CHUNK = 500
_COD_ELP_LENGTH: int = getattr(dirty_elp.c.cod_elp.type, "length", None) or 64


@dataclass
class AppliedBatch:
    """What a batch changed: counts and the keys detectors must look at again."""

    written: int = 0
    skipped_stale: int = 0
    dirty_elps: set[str] = field(default_factory=set)
    dirty: dict[EntityName, set[str]] = field(default_factory=lambda: defaultdict(set))
    finished_runs: list[str] = field(default_factory=list)


def _newest_per_key(changes: Iterable[Change]) -> dict[tuple[EntityName, str], Change]:
    newest: dict[tuple[EntityName, str], Change] = {}
    for change in changes:
        slot = (change.entity, change.key)
        current = newest.get(slot)
        if current is None or change.version >= current.version:
            newest[slot] = change
    return newest


def _naive_utc(row: dict[str, Any]) -> dict[str, Any]:
    # DateTime columns are stored naive, in UTC, on every backend.
    return {
        k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
        for k, v in row.items()
    }


def apply_changes(conn: Connection, changes: Sequence[Change], now: datetime) -> AppliedBatch:
    """Write ``changes`` in the caller's transaction; return what became dirty."""
    result = AppliedBatch()
    truncates = [c for c in changes if c.truncate]
    for change in truncates:
        table = fact_tables[change.entity]
        conn.execute(
            update(table)
            .where(
                tuple_(table.c.source_ts, table.c.source_seq)
                <= (change.source_ts, change.source_seq)
            )
            .values(tombstone=True, source_ts=change.source_ts, source_seq=change.source_seq)
        )
    by_entity: dict[EntityName, list[Change]] = defaultdict(list)
    for change in _newest_per_key(c for c in changes if not c.truncate).values():
        by_entity[change.entity].append(change)
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    logins = unchanged_users(conn, by_entity.get("mdl_user", []))
    for entity_name, entity_changes in by_entity.items():
        _apply_entity(conn, entity_name, entity_changes, naive_now, result)
    if logins:
        result.dirty["mdl_user"] -= logins
    result.dirty_elps |= _elps_behind(conn, result.dirty)
    _remember_dirty(conn, result.dirty_elps, naive_now)
    return result


def _in_chunks(conn: Connection, statement_for: Any, values: set[Any]) -> set[Any]:
    found: set[Any] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        found |= set(conn.execute(statement_for(ordered[start : start + _CHUNK])).scalars())
    return found


def _elps_behind(conn: Connection, dirty: dict[EntityName, set[str]]) -> set[str]:
    """ELPs concerned by changed rows that do not name their ELP themselves.

    A Moodle row concerns the ELP of its course (``moodle_dirty``), a session that of its fiche,
    an IA every ELP its student is registered on, a group those its collection
    is attached to: detectors must look at them again.
    """
    t = fact_tables
    elps: set[str] = set()
    if course_ids := courses_behind(conn, dirty):
        elps |= _in_chunks(
            conn,
            lambda chunk: select(t["mdl_course"].c.idnumber).where(t["mdl_course"].c.id.in_(chunk)),
            course_ids,
        )
    if sessions := dirty.get("ade_session", set()):
        fiches = _in_chunks(
            conn,
            lambda chunk: select(t["ade_session"].c.fiche_id).where(
                t["ade_session"].c.key.in_(chunk)
            ),
            sessions,
        )
        elps |= _in_chunks(
            conn,
            lambda chunk: select(t["ade_fiche"].c.cod_elp).where(
                t["ade_fiche"].c.fiche_id.in_(chunk)
            ),
            fiches,
        )
    if ias := dirty.get("ia", set()):
        students = _in_chunks(
            conn, lambda chunk: select(t["ia"].c.cod_etu).where(t["ia"].c.key.in_(chunk)), ias
        )
        elps |= _in_chunks(
            conn,
            lambda chunk: select(t["ip"].c.cod_elp).where(t["ip"].c.cod_etu.in_(chunk)),
            students,
        )
    if groups := dirty.get("group", set()):
        collections = _in_chunks(
            conn,
            lambda chunk: select(t["group"].c.collection).where(t["group"].c.key.in_(chunk)),
            groups,
        )
        elps |= _in_chunks(
            conn,
            lambda chunk: select(t["collection_link"].c.cod_elp).where(
                t["collection_link"].c.collection.in_(chunk)
            ),
            collections - {None},
        )
    return {e for e in elps if e}


def _remember_dirty(conn: Connection, cod_elps: set[str], now: datetime) -> None:
    """Persist the ELPs to look at again, in the batch's transaction, so a crash loses none.

    An upsert: workers of one consumer group mark the same ELP at once (an IA and an
    IP of one student on two partitions), and a read-then-insert let the second one
    fail on the primary key and stop its ingest (issue 14). Marking an ELP again bumps
    its generation, so that a pass which read an older one does not delete it.
    """
    # A value longer than the column (a Moodle idnumber may be) is no APOGÉE code: nothing to
    # mark. MariaDB's collation takes "rcaed334" and "RCAED334" for one key: the upsert bumps it.
    # Sorted: one lock order for every worker, no deadlock between them.
    pending = sorted(c for c in cod_elps if len(c) <= _COD_ELP_LENGTH)
    for start in range(0, len(pending), _CHUNK):
        rows = [
            {"cod_elp": c, "since": now, "generation": 0} for c in pending[start : start + _CHUNK]
        ]
        # Marked again: the generation moves on (the pass that read the old one keeps it dirty).
        bumped = {"generation": dirty_elp.c.generation + literal_column("1")}
        conn.execute(upsert(conn.dialect.name, dirty_elp, rows, bumped))


def _apply_entity(
    conn: Connection,
    entity_name: EntityName,
    changes: list[Change],
    now: datetime,
    result: AppliedBatch,
) -> None:
    table = fact_tables[entity_name]
    existing: dict[str, tuple[int, int]] = {}
    keys = [c.key for c in changes]
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = conn.execute(
            select(table.c.key, table.c.source_ts, table.c.source_seq).where(table.c.key.in_(chunk))
        )
        existing.update({row.key: (row.source_ts, row.source_seq) for row in rows})

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for change in changes:
        stored = existing.get(change.key)
        if stored is not None and stored > change.version:
            result.skipped_stale += 1
            continue
        values = _naive_utc(change.row) | {
            "key": change.key,
            "source_ts": change.source_ts,
            "source_seq": change.source_seq,
            "tombstone": change.deleted,
            "ingested_at": now,
        }
        (inserts if stored is None else updates).append(values)
        result.written += 1
        result.dirty[entity_name].add(change.key)
        if change.cod_elp:
            result.dirty_elps.add(change.cod_elp)
        if entity_name == "sync_run" and change.row.get("finished_at") is not None:
            result.finished_runs.append(change.key)

    if inserts:
        conn.execute(table.insert(), inserts)
    if updates:
        columns = [c.name for c in table.columns if c.name != "key"]
        statement = (
            update(table)
            .where(
                and_(
                    table.c.key == bindparam("b_key"),
                    # Re-checked in SQL so that two workers racing on a key cannot regress it.
                    tuple_(table.c.source_ts, table.c.source_seq)
                    <= tuple_(bindparam("b_ts"), bindparam("b_seq")),
                )
            )
            .values({name: bindparam(f"v_{name}") for name in columns})
        )
        params = [
            {"b_key": u["key"], "b_ts": u["source_ts"], "b_seq": u["source_seq"]}
            | {f"v_{name}": u.get(name) for name in columns}
            for u in updates
        ]
        conn.execute(statement, params)
