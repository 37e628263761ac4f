"""The state store: idempotent, version-ordered apply and the detectors' snapshot, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from monitor.mapping import Change
from monitor.store.apply import apply_changes
from monitor.store.schema import dirty_elp, fact_tables
from monitor.store.snapshot import load_facts

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
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


def _elp_change(ts: int, seq: int = 0, *, deleted: bool = False, **values: object) -> Change:
    return Change("elp", "RCAED334", ELP | values, source_ts=ts, source_seq=seq, deleted=deleted)


def _ip(cod_etu: str, ts: int, group: str | None = "RCAED334TD") -> Change:
    row = {
        "cod_etu": cod_etu,
        "cod_elp": "RCAED334",
        "group_id": group,
        "distant": False,
        "year": 2026,
    }
    return Change("ip", f"{cod_etu}\x1fRCAED334", row, source_ts=ts)


def _state(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(fact_tables["elp"]).order_by("key")).all()
    return [tuple(r)[:-1] for r in rows]  # without ingested_at


def test_applying_the_same_changes_twice_gives_the_same_state(store_engine: Engine) -> None:
    changes = [_elp_change(1000), _elp_change(2000, label="Méthodo 2"), _ip("21609846", 1500)]
    with store_engine.begin() as conn:
        first = apply_changes(conn, changes, NOW)
    state = _state(store_engine)
    with store_engine.begin() as conn:
        again = apply_changes(conn, changes, NOW)
    assert _state(store_engine) == state
    assert first.written == 2  # the two ELP changes collapse to the newest
    assert again.written == 2 and again.skipped_stale == 0  # same version rewrites identically


def test_an_older_event_never_overwrites_a_newer_one(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp_change(2000, 5, label="récent")], NOW)
    with store_engine.begin() as conn:
        outcome = apply_changes(
            conn, [_elp_change(2000, 4, label="ancien"), _elp_change(1000)], NOW
        )
    assert outcome.skipped_stale == 1
    with store_engine.connect() as conn:
        label = conn.execute(select(fact_tables["elp"].c.label)).scalar_one()
    assert label == "récent"


def test_delete_keeps_a_tombstone_that_a_late_create_cannot_resurrect(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp_change(1000), _elp_change(3000, deleted=True)], NOW)
        apply_changes(conn, [_elp_change(2000)], NOW)
    with store_engine.connect() as conn:
        facts = load_facts(conn)
    assert "RCAED334" not in facts.elps
    assert facts.deleted_elps["RCAED334"].as_of == datetime.fromtimestamp(3, tz=UTC)


def test_each_row_keeps_its_source_timestamp_and_marks_its_elp_dirty(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        batch = apply_changes(conn, [_ip("21609846", 1_764_489_600_000)], NOW)
    assert batch.dirty_elps == {"RCAED334"}
    with store_engine.connect() as conn:
        facts = load_facts(conn, ["RCAED334"])
        dirty = conn.execute(select(dirty_elp.c.cod_elp)).scalars().all()
    (ip,) = facts.ips
    assert ip.as_of == datetime(2025, 11, 30, 8, 0, tzinfo=UTC)
    assert dirty == ["RCAED334"]


def test_truncate_tombstones_every_older_row(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_ip("1", 1000), _ip("2", 1000)], NOW)
        apply_changes(conn, [Change("ip", "*", {}, source_ts=2000, truncate=True)], NOW)
    with store_engine.connect() as conn:
        assert load_facts(conn).ips == ()


def test_an_enrolment_change_marks_the_elp_of_its_course_dirty(store_engine: Engine) -> None:
    course = {
        "course_id": 7,
        "idnumber": "RCAED334",
        "shortname": "R",
        "fullname": "M",
        "visible": True,
        "category": 1,
        "archived": False,
        "startdate": None,
        "enddate": None,
    }
    instance = {
        "enrol_id": 70,
        "course_id": 7,
        "method": "database",
        "role": "student",
        "cohort_id": None,
        "created": None,
    }
    with store_engine.begin() as conn:
        apply_changes(
            conn,
            [Change("moodle_course", "7", course, 1), Change("moodle_enrol", "70", instance, 1)],
            NOW,
        )
        conn.execute(dirty_elp.delete())
        enrolment = {
            "enrolment_id": 5,
            "enrol_id": 70,
            "user": "50001",
            "timestart": None,
            "timeend": None,
            "active": True,
        }
        batch = apply_changes(conn, [Change("moodle_enrolment", "5", enrolment, 2)], NOW)
    assert batch.dirty_elps == {"RCAED334"}
