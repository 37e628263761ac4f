"""One detection cycle under steady traffic: the dirty ELPs do not starve the other passes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from monitor.clock import ManualClock
from monitor.config import HttpSettings, StoreSettings, load_settings
from monitor.daemon import Daemon
from monitor.kafka.mapping import Change
from monitor.pipeline import DIRTY_BATCH, PassReport
from monitor.store.apply import apply_changes
from monitor.store.schema import dirty_elp

START = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)


def _elp(code: str) -> Change:
    row = {
        "cod_elp": code,
        "label": f"Élément {code}",
        "cod_cmp": "12",
        "a_distance": False,
        "status": "open",
        "porteur": None,
        "has_teaching_load": True,
        "period": "S1",
        "year": 2026,
    }
    return Change("elp", code, row, source_ts=1000)


def _ip(cod_etu: str, cod_elp: str) -> Change:
    row = {"cod_etu": cod_etu, "cod_elp": cod_elp, "group_id": None, "distant": False}
    return Change("ip", f"{cod_etu}\x1f{cod_elp}", row, source_ts=2000)


def _daemon(engine: Engine, clock: ManualClock) -> Daemon:
    settings = load_settings(
        store=StoreSettings(url=str(engine.url)), http=HttpSettings(enabled=False)
    )
    daemon = Daemon(settings, registry=CollectorRegistry(), engine=engine, clock=clock)
    # As a replay does: this process applies every change itself, alone on its store.
    daemon.gate.caught_up_by_construction()
    daemon.coordinator.caught_up_by_construction()
    return daemon


def test_a_cycle_checks_what_was_dirty_then_goes_on_while_traffic_marks_more(
    sqlite_engine: Engine,
) -> None:
    """Each ahead pass sees an ELP marked again by the traffic; the cycle still ends,
    and delivers (it looped on the new marks, starving delivery and the scheduled
    passes, and made a fault wait behind every ELP touched since)."""
    clock = ManualClock(START)
    daemon = _daemon(sqlite_engine, clock)
    ahead = daemon.pipeline.run_ahead
    passes: list[int | None] = []
    delivered: list[datetime] = []

    def ahead_under_traffic(now: datetime) -> PassReport | None:
        report = ahead(now)
        passes.append(None if report is None else report.scope_size)
        assert len(passes) < 50, "the cycle keeps chasing new marks"
        with sqlite_engine.begin() as conn:  # the traffic marks an ELP during the pass
            apply_changes(conn, [_ip(f"2100{len(passes):04d}", f"E{len(passes):04d}")], clock())
        return report

    deliver = daemon.pipeline.deliver
    daemon.pipeline.run_ahead = ahead_under_traffic  # type: ignore[method-assign]
    daemon.pipeline.deliver = lambda now: (delivered.append(now), deliver(now))[1]  # type: ignore[method-assign]
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_ip("21000000", "E0000")], clock())

    assert daemon.coordinator.run_alone(daemon.detect_once)

    assert passes == [1]
    assert delivered == [clock()]
    with sqlite_engine.connect() as conn:  # the next cycle's
        assert conn.execute(select(dirty_elp.c.cod_elp)).scalars().all() == ["E0001"]


def test_a_backlog_is_read_in_full_batches_within_one_cycle(sqlite_engine: Engine) -> None:
    """More dirty ELPs than a batch: the cycle takes batch after batch until one is partial."""
    clock = ManualClock(START)
    daemon = _daemon(sqlite_engine, clock)
    with sqlite_engine.begin() as conn:
        apply_changes(
            conn, [_ip(f"23{i:06d}", f"B{i:05d}") for i in range(DIRTY_BATCH + 3)], clock()
        )
    sizes: list[Any] = []
    ahead = daemon.pipeline.run_ahead

    def counted(now: datetime) -> PassReport | None:
        report = ahead(now)
        sizes.append(None if report is None else report.scope_size)
        return report

    daemon.pipeline.run_ahead = counted  # type: ignore[method-assign]
    assert daemon.coordinator.run_alone(daemon.detect_once)
    assert sizes == [DIRTY_BATCH, 3]
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dirty_elp)).scalar_one() == 0
    assert not daemon._ahead_left


def test_an_elp_whose_own_row_changed_is_checked_first_in_a_pass_of_its_own(
    sqlite_engine: Engine,
) -> None:
    """Under traffic the students' rows mark many ELPs; a change of the offer itself (an ELP
    deleted: its course archived tonight) is checked before them, then they are, in the
    same cycle."""
    clock = ManualClock(START)
    daemon = _daemon(sqlite_engine, clock)
    with sqlite_engine.begin() as conn:
        apply_changes(conn, [_elp("OFFER1"), _elp("OFFER2")], clock())
        apply_changes(conn, [_ip(f"2200{i:04d}", f"T{i:04d}") for i in range(30)], clock())
        apply_changes(conn, [_ip("22009999", "OFFER2")], clock())  # marked by both
    scopes: list[tuple[bool, int | None]] = []
    ahead = daemon.pipeline.run_ahead

    def recorded(now: datetime) -> PassReport | None:
        report = ahead(now)
        if report is not None:
            scopes.append((report.offer_first, report.scope_size))
        return report

    daemon.pipeline.run_ahead = recorded  # type: ignore[method-assign]
    assert daemon.coordinator.run_alone(daemon.detect_once)
    assert scopes == [(True, 2), (False, 30)]
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dirty_elp)).scalar_one() == 0
