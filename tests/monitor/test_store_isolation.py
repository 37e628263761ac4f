"""A batch the store refuses: the refused changes are found, the rest applied (SQLite and MariaDB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from monitor.kafka.ingest.isolate import find_rejected, persist_isolating
from monitor.kafka.ingest.persist import PartitionProgress
from monitor.kafka.mapping import Change
from monitor.store.schema import fact_tables, ingest_progress
from tests.monitor.test_store import ELP

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
TOPIC = "moodle.moodle.mdl_user_enrolments"


@dataclass(frozen=True)
class _Message:
    topic: str
    partition: int
    offset: int
    timestamp: int = 0
    key: bytes | None = None
    value: bytes | None = b"{}"


def enrolment(enrolment_id: int, enrol_id: int) -> Change:
    """A ``mdl_user_enrolments`` change no decoder would let through: ``enrolid`` may overflow BIGINT."""
    row = {
        "id": enrolment_id,
        "status": 0,
        "enrolid": enrol_id,
        "userid": 3,
        "timestart": 0,
        "timeend": 0,
        "timecreated": None,
        "timemodified": None,
    }
    return Change("mdl_user_enrolments", str(enrolment_id), row, source_ts=1_000)


def test_the_refused_changes_are_found_by_bisection(store_engine: Engine) -> None:
    changes = [enrolment(n, 2**64 if n in (3, 6) else n) for n in range(8)]

    refused = find_rejected(store_engine, changes, NOW)

    assert sorted(refused) == [3, 6]
    with store_engine.connect() as conn:
        assert conn.execute(select(fact_tables["mdl_user_enrolments"])).all() == []


def test_a_refused_change_is_dead_lettered_and_the_others_applied(store_engine: Engine) -> None:
    changes = [enrolment(1, 10), enrolment(2, 2**64), enrolment(3, 30)]
    origins = [_Message(TOPIC, 0, offset) for offset in (100, 101, 102)]
    progress = {(TOPIC, 0): PartitionProgress(TOPIC, 0)}
    for offset in (100, 101, 102):
        progress[(TOPIC, 0)].consumed(offset, 1_000)

    applied, dead = persist_isolating(store_engine, changes, origins, progress, NOW)

    assert applied.written == 2
    assert [(m.offset, e.reason_kind) for m, e in dead] == [(101, "rejected_by_store")]
    with store_engine.connect() as conn:
        keys = set(conn.execute(select(fact_tables["mdl_user_enrolments"].c.key)).scalars())
        counted = conn.execute(
            select(ingest_progress.c.events, ingest_progress.c.dead_lettered)
        ).one()
    assert keys == {"1", "3"}
    assert tuple(counted) == (3, 1)


def test_a_batch_refused_whole_is_not_blamed_on_its_messages(store_engine: Engine) -> None:
    """Every change refused: the fault is not the data; the error is raised, nothing dead-lettered."""
    changes = [enrolment(1, 2**64), enrolment(2, 2**64)]
    origins = [_Message(TOPIC, 0, 1), _Message(TOPIC, 0, 2)]
    progress = {(TOPIC, 0): PartitionProgress(TOPIC, 0)}

    with pytest.raises(Exception):  # noqa: B017 - the driver's own error, whichever it is
        persist_isolating(store_engine, changes, origins, progress, NOW)


@pytest.mark.mariadb
def test_the_later_of_two_keys_mariadb_takes_for_one_is_refused(mariadb_engine: Engine) -> None:
    """MariaDB's default collation compares keys without case or accents: one row, not two."""

    def group(group_id: str) -> Change:
        row = {"group_id": group_id, "label": "TD", "collection": None}
        return Change("group", group_id, row, source_ts=1_000)

    refused = find_rejected(mariadb_engine, [group("é1"), group("G2"), group("E1")], NOW)

    assert list(refused) == [2]
    assert "Duplicate" in refused[2]


def test_elp_codes_differing_by_case_mark_the_elp_dirty_without_refusing_the_batch(
    store_engine: Engine,
) -> None:
    """A Moodle idnumber typed in lower case: MariaDB takes it for the ELP's code, not a duplicate."""
    course = {
        "id": 42,
        "category": 1,
        "fullname": "x",
        "shortname": "x",
        "idnumber": "rcaed334",
        "startdate": 0,
        "enddate": 0,
        "visible": 1,
        "timecreated": None,
        "timemodified": None,
    }
    changes = [
        Change("elp", "RCAED334", ELP, source_ts=1_000),
        Change("mdl_course", "42", course, source_ts=1_000),
    ]
    progress = {("t", 0): PartitionProgress("t", 0)}

    applied, dead = persist_isolating(
        store_engine, changes, [_Message("t", 0, 1), _Message("t", 0, 2)], progress, NOW
    )

    assert (applied.written, dead) == (2, [])
