"""Apply a batch of canonical changes to the state store, idempotently.

Within a batch the newest change per key wins; against the store, a change is
written only if its version ``(source_ts, source_seq)`` is not older than the
row's. Applying the same events twice therefore gives the same state, and a
late, older event never overwrites a newer one. Deletes keep a tombstone.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, tuple_, update

from monitor.kafka.mapping import MAX_COD_ELP, Change
from monitor.store.bulk import bound, execute_many, mark_dirty_sql, statements
from monitor.store.entities import ENTITIES, EntityName
from monitor.store.moodle_dirty import Lookup, courses_behind, unchanged_users
from monitor.store.schema import dirty_elp, fact_tables

_COD_ELP_LENGTH: int = getattr(dirty_elp.c.cod_elp.type, "length", None) or 64


@dataclass
class AppliedBatch:
    """What a batch changed: counts and the keys detectors must look at again."""

    written: int = 0
    skipped_stale: int = 0
    dirty_elps: set[str] = field(default_factory=set)
    dirty: dict[EntityName, set[str]] = field(default_factory=lambda: defaultdict(set))
    finished_runs: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _newest_per_key(changes: Iterable[Change]) -> dict[tuple[EntityName, str], Change]:
    newest: dict[tuple[EntityName, str], Change] = {}
    for change in changes:
        slot = (change.entity, change.key)
        current = newest.get(slot)
        if current is None or (change.source_ts, change.source_seq) >= (
            current.source_ts,
            current.source_seq,
        ):
            newest[slot] = change
    return newest


def apply_changes(conn: Connection, changes: Sequence[Change], now: datetime) -> AppliedBatch:
    """Write ``changes`` in the caller's transaction; return what became dirty.

    ``AppliedBatch.seconds`` tells where the time went: ``apply`` (the rows) and
    ``dirty`` (which ELPs detectors must look at again, and marking them).
    """
    started = time.perf_counter()
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
    dirty_started = time.perf_counter()
    logins = unchanged_users(conn, by_entity.get("mdl_user", []))
    dirty_seconds = time.perf_counter() - dirty_started
    written: dict[EntityName, dict[str, dict[str, Any]]] = {}
    for entity_name, entity_changes in by_entity.items():
        written[entity_name] = _apply_entity(conn, entity_name, entity_changes, naive_now, result)
    dirty_started = time.perf_counter()
    if logins:
        result.dirty["mdl_user"] -= logins
    result.dirty_elps |= _elps_behind(conn, result.dirty, written)
    _remember_dirty(conn, result.dirty_elps, naive_now, offer=result.dirty.get("elp", set()))
    dirty_seconds += time.perf_counter() - dirty_started
    result.seconds["apply"] = time.perf_counter() - started - dirty_seconds
    result.seconds["dirty"] = dirty_seconds
    return result


def _elps_behind(
    conn: Connection,
    dirty: dict[EntityName, set[str]],
    written: dict[EntityName, dict[str, dict[str, Any]]] | None = None,
) -> set[str]:
    """ELPs concerned by changed rows that do not name their ELP themselves.

    A Moodle row concerns the ELP of its course (``moodle_dirty``), a session that of its fiche,
    an IA every ELP its student is registered on, a group those its collection
    is attached to: detectors must look at them again. A row written by this batch
    is read from the batch (``written``: key -> row), the others from the store.
    """
    find = Lookup(conn, written or {})
    elps: set[str] = set()
    if course_ids := courses_behind(conn, dirty, find):
        elps |= find("mdl_course", "idnumber", "id", course_ids)
    if sessions := dirty.get("ade_session", set()):
        fiches = find("ade_session", "fiche_id", "session_id", sessions)
        elps |= find("ade_fiche", "cod_elp", "fiche_id", fiches)
    if ias := dirty.get("ia", set()):
        students = find("ia", "cod_etu", "ia_id", ias)
        elps |= find("ip", "cod_elp", "cod_etu", students)
    if groups := dirty.get("group", set()):
        collections = find("group", "collection", "group_id", groups)
        elps |= find("collection_link", "cod_elp", "collection", collections)
    return {e for e in elps if e}


def _remember_dirty(
    conn: Connection, cod_elps: set[str], now: datetime, *, offer: set[str]
) -> None:
    """Persist the ELPs to look at again, in the batch's transaction, so a crash loses none.

    ``offer``: the ELPs whose own row the batch wrote (created, edited, deleted), checked
    before the others (``DirtyClaims.claim``).

    An upsert: workers of one consumer group mark the same ELP at once (an IA and an
    IP of one student on two partitions), and a read-then-insert let the second one
    fail on the primary key and stop its ingest (issue 14). Marking an ELP again bumps
    its generation, so that a pass which read an older one does not delete it.
    """
    # A value longer than the column (a Moodle idnumber may be) is no APOGÉE code: nothing to
    # mark. MariaDB's collation takes "rcaed334" and "RCAED334" for one key: the upsert bumps it.
    # Sorted: one lock order for every worker, no deadlock between them.
    pending = sorted(c for c in cod_elps if len(c) <= _COD_ELP_LENGTH)
    if pending:
        # Marked again: the generation moves on (the pass that read the old one keeps it dirty).
        since = bound(conn, dirty_elp.c.since, now)
        execute_many(conn, mark_dirty_sql(conn), [(c, since, 0, c in offer) for c in pending])


def _apply_entity(
    conn: Connection,
    entity_name: EntityName,
    changes: list[Change],
    now: datetime,
    result: AppliedBatch,
) -> dict[str, dict[str, Any]]:
    """Write the newest change of each key unless the store holds a newer one; return key -> row."""
    sql = statements(conn, fact_tables[entity_name])
    existing = sql.versions(conn, [c.key for c in changes])
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    written: dict[str, dict[str, Any]] = {}
    elp_field = ENTITIES[entity_name].elp_field
    dirty_elps = result.dirty_elps
    ingested_at = sql.bind_ingested_at(now)
    row_of = sql.row_of
    for change in changes:  # once per row of the batch: kept lean (issue 13)
        key, row = change.key, change.row
        version = (change.source_ts, change.source_seq)
        stored = existing.get(key)
        if stored is not None and stored > version:
            result.skipped_stale += 1
            continue
        bound = row_of(key, row, version, change.deleted, ingested_at)
        (inserts if stored is None else updates).append(bound)
        written[key] = row
        if elp_field is not None and (cod_elp := _cod_elp(row.get(elp_field))):
            dirty_elps.add(cod_elp)
        if entity_name == "sync_run" and row.get("finished_at") is not None:
            result.finished_runs.append(key)
    result.dirty[entity_name].update(written)
    result.written += len(written)
    sql.insert(conn, inserts)
    # Re-checked in SQL so that two workers racing on a key cannot regress it.
    sql.update(conn, updates)
    return written


def _cod_elp(value: Any) -> str | None:
    """``Change.cod_elp`` of a row whose ELP field holds ``value``."""
    if value is None:
        return None
    text = value if value.__class__ is str else str(value)
    # Longer than any APOGÉE code (a Moodle idnumber may be): no ELP to look at again.
    return text if len(text) <= MAX_COD_ELP else None
