"""The snapshot loader: rows become the same facts, and the kept ELP offer follows every change."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from detectors.facts import Elp
from detectors.state import FactSet
from monitor.kafka.mapping import Change
from monitor.store.apply import apply_changes
from monitor.store.offer import ElpOffer
from monitor.store.schema import fact_tables
from monitor.store.snapshot import load_facts

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _elp(code: str, ts: int, *, seq: int = 0, deleted: bool = False, **values: object) -> Change:
    row = {"cod_elp": code, "label": f"Cours {code}", "cod_cmp": "12", "year": 2026} | values
    return Change("elp", code, row, source_ts=ts, source_seq=seq, deleted=deleted)


def _ip(cod_etu: str, cod_elp: str, ts: int) -> Change:
    row = {"cod_etu": cod_etu, "cod_elp": cod_elp, "group_id": None, "distant": False}
    return Change("ip", f"{cod_etu}\x1f{cod_elp}", row, source_ts=ts)


def _apply(engine: Engine, *changes: Change, at: datetime = NOW) -> None:
    with engine.begin() as conn:
        apply_changes(conn, list(changes), at)


def _neighbourhood(engine: Engine, offer: ElpOffer | None = None) -> FactSet:
    with engine.connect() as conn:
        return load_facts(conn, ["RCAED334"], offer=offer)


def _same(left: FactSet, right: FactSet) -> bool:
    return all(getattr(left, f.name) == getattr(right, f.name) for f in fields(FactSet))


def test_a_null_column_takes_the_facts_default_and_dates_and_lists_keep_their_meaning(
    store_engine: Engine,
) -> None:
    elp = fact_tables["elp"]
    with store_engine.begin() as conn:
        conn.execute(
            insert(elp).values(
                key="RCAED334",
                cod_elp="RCAED334",
                label="Méthodologie",
                cod_cmp="12",
                has_teaching_load=None,  # a column added after the row was written
                source_ts=1_764_489_600_000,
                source_seq=0,
                tombstone=False,
                ingested_at=NOW.replace(tzinfo=None),
            )
        )
    _apply(
        store_engine,
        Change(
            "ade_fiche",
            "F1",
            {"fiche_id": "F1", "cod_elp": "RCAED334", "teachers": None},
            source_ts=2000,
        ),
    )

    facts = _neighbourhood(store_engine)

    assert facts.elps["RCAED334"] == Elp(
        "RCAED334",
        "Méthodologie",
        "12",
        has_teaching_load=True,
        as_of=datetime(2025, 11, 30, 8, 0, tzinfo=UTC),
    )
    assert facts.fiches["F1"].teachers == ()


def test_a_kept_offer_gives_the_same_neighbourhood_as_reading_the_offer(
    store_engine: Engine,
) -> None:
    _apply(
        store_engine,
        _elp("RCAED334", 1000),
        _elp("RCAED335", 1000, porteur="RCAED334"),
        _elp("OLD01", 500),
        _elp("OLD01", 900, deleted=True),
        _ip("21609846", "RCAED334", 1200),
    )
    offer = ElpOffer()

    kept = _neighbourhood(store_engine, offer)

    assert _same(kept, _neighbourhood(store_engine))
    assert set(kept.elps) == {"RCAED334", "RCAED335"} and set(kept.deleted_elps) == {"OLD01"}


def test_the_offer_is_not_read_again_while_no_elp_changes(store_engine: Engine) -> None:
    _apply(store_engine, _elp("RCAED334", 1000))
    offer = ElpOffer()
    first = _neighbourhood(store_engine, offer)

    _apply(store_engine, _ip("21609846", "RCAED334", 2000), at=NOW + timedelta(minutes=1))
    second = _neighbourhood(store_engine, offer)

    assert second.elps["RCAED334"] is first.elps["RCAED334"]
    assert [ip.cod_etu for ip in second.ips] == ["21609846"]


def test_the_offer_follows_an_edit_a_new_elp_and_a_deletion(store_engine: Engine) -> None:
    _apply(store_engine, _elp("RCAED334", 1000), _elp("OLD01", 1000))
    offer = ElpOffer()
    _neighbourhood(store_engine, offer)

    _apply(store_engine, _elp("RCAED334", 2000, label="Droit civil"))
    assert _neighbourhood(store_engine, offer).elps["RCAED334"].label == "Droit civil"

    _apply(store_engine, _elp("RCAED334", 2000, seq=1, label="Droit civil 2"))
    assert _neighbourhood(store_engine, offer).elps["RCAED334"].label == "Droit civil 2"

    _apply(store_engine, _elp("NEW01", 3000))
    assert "NEW01" in _neighbourhood(store_engine, offer).elps

    _apply(store_engine, _elp("OLD01", 4000, deleted=True))
    after = _neighbourhood(store_engine, offer)
    assert "OLD01" not in after.elps and "OLD01" in after.deleted_elps
    assert _same(after, _neighbourhood(store_engine))


def test_a_row_rewritten_at_the_same_version_later_is_seen(store_engine: Engine) -> None:
    _apply(store_engine, _elp("RCAED334", 1000, label="avant"))
    offer = ElpOffer()
    _neighbourhood(store_engine, offer)

    # Same version, different content (a re-snapshot with a fixed mapping): a later batch.
    _apply(store_engine, _elp("RCAED334", 1000, label="après"), at=NOW + timedelta(hours=1))

    assert _neighbourhood(store_engine, offer).elps["RCAED334"].label == "après"


def test_only_the_elps_written_since_are_read_again(store_engine: Engine) -> None:
    _apply(store_engine, _elp("RCAED334", 1000))
    _apply(store_engine, _elp("RCAED335", 1000), at=NOW + timedelta(hours=1))
    offer = ElpOffer()
    before = _neighbourhood(store_engine, offer)

    _apply(store_engine, _elp("RCAED335", 2000, label="Droit civil"), at=NOW + timedelta(hours=2))
    after = _neighbourhood(store_engine, offer)

    assert after.elps["RCAED334"] is before.elps["RCAED334"]
    assert after.elps["RCAED335"].label == "Droit civil"


def test_a_batch_stamped_before_the_newest_kept_row_is_not_missed(store_engine: Engine) -> None:
    _apply(store_engine, _elp("RCAED334", 1000), at=NOW + timedelta(hours=1))
    offer = ElpOffer()
    _neighbourhood(store_engine, offer)

    # A worker that began its batch earlier commits it now: its rows look older than the kept ones.
    _apply(store_engine, _elp("RCAED335", 2000, porteur="RCAED334"), at=NOW)

    assert _same(_neighbourhood(store_engine, offer), _neighbourhood(store_engine))
    assert "RCAED335" in _neighbourhood(store_engine, offer).elps
