"""The batched writes of ``apply_changes`` (issue 13): version order kept, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, select

from monitor.kafka.mapping import Change, fact_to_row
from monitor.store.apply import apply_changes
from monitor.store.bulk import statements
from monitor.store.schema import dirty_elp, fact_tables
from monitor.store.snapshot import load_facts

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
ELP = {
    "cod_elp": "RCAED334",
    "label": "Méthodologie",
    "cod_cmp": "12",
    "a_distance": False,
    "status": "open",
    "porteur": None,
    "has_teaching_load": True,
    "period": "S1",
    "year": 2026,
}


def _elp(code: str, ts: int, seq: int = 0, **values: object) -> Change:
    return Change("elp", code, ELP | {"cod_elp": code} | values, source_ts=ts, source_seq=seq)


def _labels(engine: Engine) -> dict[str, tuple[str, int, int]]:
    table = fact_tables["elp"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.key, table.c.label, table.c.source_ts, table.c.source_seq)
        )
        return {key: (label, ts, seq) for key, label, ts, seq in rows}


def test_two_versions_of_one_key_in_a_batch_the_older_after_keep_the_newer(
    store_engine: Engine,
) -> None:
    batch = [_elp("E1", 2000, 7, label="récent"), _elp("E1", 2000, 6, label="ancien")]
    with store_engine.begin() as conn:
        applied = apply_changes(conn, batch, NOW)
    assert (applied.written, applied.skipped_stale) == (1, 0)
    assert _labels(store_engine) == {"E1": ("récent", 2000, 7)}


def test_a_batch_mixing_inserts_updates_and_stale_changes(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp("OLD", 1000, label="v1"), _elp("NEW", 5000, label="v5")], NOW)
    batch = [
        _elp("FRESH", 3000, label="inséré"),  # insert
        _elp("OLD", 3000, label="v3"),  # update over an older row
        _elp("NEW", 4000, label="v4"),  # older than the stored row: skipped
        _elp("OLD", 2000, label="v2"),  # older than the batch's own v3: dropped
    ]
    with store_engine.begin() as conn:
        applied = apply_changes(conn, batch, NOW)
    assert (applied.written, applied.skipped_stale) == (2, 1)
    assert applied.dirty["elp"] == {"FRESH", "OLD"}
    assert applied.dirty_elps == {"FRESH", "OLD"}
    assert _labels(store_engine) == {
        "FRESH": ("inséré", 3000, 0),
        "OLD": ("v3", 3000, 0),
        "NEW": ("v5", 5000, 0),
    }


def test_the_update_statement_itself_never_regresses_a_newer_row(store_engine: Engine) -> None:
    """Two workers racing: the version read before the write is stale, the statement checks it."""
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp("E1", 2000, 5, label="récent")], NOW)
    table = fact_tables["elp"]
    with store_engine.begin() as conn:
        sql = statements(conn, table)
        at = sql.bind_ingested_at(NOW)
        older = sql.row("E1", ELP | {"label": "ancien"}, (2000, 4), False, at)
        sql.update(conn, [older])
    assert _labels(store_engine)["E1"] == ("récent", 2000, 5)
    with store_engine.begin() as conn:
        same = sql.row("E1", ELP | {"label": "même version"}, (2000, 5), False, at)
        newer = sql.row("E2", ELP, (1, 0), False, at)  # not stored: the update adds nothing
        sql.update(conn, [same])
    assert _labels(store_engine)["E1"] == ("même version", 2000, 5)
    with store_engine.begin() as conn:
        sql.insert(conn, [newer])
        later = sql.row("E1", ELP | {"label": "plus tard"}, (2001, 0), True, at)
        sql.update(conn, [later])
    with store_engine.connect() as conn:
        tombstone = conn.execute(select(table.c.tombstone).where(table.c.key == "E1")).scalar()
    assert _labels(store_engine)["E1"] == ("plus tard", 2001, 0) and tombstone is True


def test_values_are_stored_as_sqlalchemy_stores_them(store_engine: Engine) -> None:
    """Dates (naive UTC), lists (JSON), booleans and NULLs read back the same as a Core insert's."""
    table = fact_tables["sync_run"]
    paris = timezone(timedelta(hours=1))
    row = {
        "run_id": "r1",
        "started_at": datetime(2026, 12, 6, 3, 0, tzinfo=paris),
        "finished_at": None,
        "status": "running",
        "created": 0,
        "archived": 0,
        "unarchived": 0,
        "deleted": 0,
        "messages": [{"level": "error", "text": "élément", "code": None}],
    }
    with store_engine.begin() as conn:
        apply_changes(conn, [Change("sync_run", "r1", row, source_ts=1)], NOW)
        conn.execute(
            table.insert().values(
                row
                | {"key": "core", "started_at": datetime(2026, 12, 6, 2, 0)}
                | {"source_ts": 1, "source_seq": 0, "tombstone": False}
                | {"ingested_at": NOW.replace(tzinfo=None)}
            )
        )
    with store_engine.connect() as conn:
        stored = {r.key: r for r in conn.execute(select(table))}
    bulk, core = stored["r1"], stored["core"]
    assert bulk.started_at == datetime(2026, 12, 6, 2, 0) == core.started_at
    assert bulk.messages == core.messages == row["messages"]
    assert bulk.ingested_at == core.ingested_at and bulk.tombstone is False
    assert bulk.finished_at is None


def test_moodle_rows_of_one_batch_resolve_their_elp_from_the_batch_and_the_store(
    store_engine: Engine,
) -> None:
    """A course and its enrolment instance in one batch, an enrolment later: both mark the ELP."""

    def raw(entity: str, ts: int, **values: object) -> Change:
        return Change(entity, str(values["id"]), values, source_ts=ts)  # type: ignore[arg-type]

    with store_engine.begin() as conn:
        first = apply_changes(
            conn,
            [
                raw("mdl_course", 1, id=7, idnumber="RCAED334", category=1, visible=1),
                raw("mdl_enrol", 1, id=70, courseid=7, enrol="database", status=0),
            ],
            NOW,
        )
        later = apply_changes(
            conn, [raw("mdl_user_enrolments", 2, id=700, enrolid=70, userid=5, status=0)], NOW
        )
    assert first.dirty_elps == {"RCAED334"} and later.dirty_elps == {"RCAED334"}
    with store_engine.connect() as conn:
        marked = conn.execute(select(dirty_elp.c.cod_elp, dirty_elp.c.generation)).all()
    assert marked == [("RCAED334", 1)]  # marked twice: the generation moved on


def test_the_bulk_rows_load_as_facts(store_engine: Engine) -> None:
    """Text that SQL quoting and format strings could mangle is stored as it came."""
    label = "100 % à distance, l'UE \\ « test » %s %(x)s"
    change = _elp("E1", 1000, label=label)
    with store_engine.begin() as conn:
        apply_changes(conn, [change], NOW)
        apply_changes(conn, [_elp("E1", 1001, label=label + "'")], NOW)  # the update too
    with store_engine.connect() as conn:
        facts = load_facts(conn)
    (elp,) = facts.elps.values()
    assert fact_to_row(elp) == change.row | {"label": label + "'"}


def test_a_batch_larger_than_one_statement_is_split(store_engine: Engine) -> None:
    """MariaDB's multi-row statements are cut below pymysql's limit; every row arrives."""
    long_label = "é" * 250
    batch = [_elp(f"E{n:05d}", 1000, label=long_label) for n in range(6000)]
    with store_engine.begin() as conn:
        applied = apply_changes(conn, batch, NOW)
        again = apply_changes(conn, [_elp(c.key, 2000, label="v2") for c in batch], NOW)
    assert applied.written == again.written == 6000
    assert {label for label, _, _ in _labels(store_engine).values()} == {"v2"}


def test_keys_with_quotes_backslashes_and_percents_are_found_again(store_engine: Engine) -> None:
    """The stored versions are read with the keys written into the query (MariaDB): escaped."""
    codes = ["O'BRIEN", "A\\B", "100%", 'DIT "X"', "É'\\%s"]
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp(code, 1000, label="v1") for code in codes], NOW)
    with store_engine.begin() as conn:
        applied = apply_changes(conn, [_elp(code, 2000, label="v2") for code in codes], NOW)
    assert (applied.written, applied.skipped_stale) == (len(codes), 0)
    assert {key: label for key, (label, _, _) in _labels(store_engine).items()} == dict.fromkeys(
        codes, "v2"
    )
