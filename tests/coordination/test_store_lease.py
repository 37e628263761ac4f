"""The detection lease and the dirty-ELP claims in the state store, on SQLite and MariaDB."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from monitor.coordination.dirty_claims import DirtyClaims
from monitor.coordination.lease import LeaseLost, StoreLease
from monitor.coordination.lease_core import LeaseRow
from monitor.coordination.presence import WorkerPresence
from monitor.kafka.mapping import Change
from monitor.store.apply import apply_changes
from monitor.store.schema import dirty_elp, pipeline_cursor

TTL = 15.0


class Clocks:
    """A wall clock (ms) and a monotonic clock (s) the test moves together."""

    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def wall(self) -> int:
        return self.ms

    def mono(self) -> float:
        return self.ms / 1000

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def _lease(engine: Engine, holder: str, clocks: Clocks) -> StoreLease:
    return StoreLease(
        engine, holder=holder, ttl_seconds=TTL, wall_ms=clocks.wall, monotonic=clocks.mono
    )


def test_one_worker_holds_the_lease_and_renews_it(store_engine: Engine, clocks: Clocks) -> None:
    w1, w2 = _lease(store_engine, "w1", clocks), _lease(store_engine, "w2", clocks)
    assert w1.acquire().action == "take"
    assert w2.acquire().action == "wait"
    assert w1.held and not w2.held
    clocks.advance(TTL / 3)
    assert w1.acquire().action == "renew"
    clocks.advance(TTL * 0.9)  # past the first expiry, not the renewed one
    assert w2.acquire().action == "wait"
    assert w1.current() == LeaseRow(
        "w1", 1, 1_800_000_000_000, clocks.ms - 13_500, clocks.ms + 1_500
    )


def test_a_dead_holder_loses_the_lease_after_its_ttl(store_engine: Engine, clocks: Clocks) -> None:
    w1, w2 = _lease(store_engine, "w1", clocks), _lease(store_engine, "w2", clocks)
    w1.acquire()
    clocks.advance(TTL)  # w1 stopped renewing (killed)
    assert not w1.held  # its own view lapses too
    taken = w2.acquire()
    assert taken.action == "take" and taken.handover
    assert w2.held and w2.term == 2
    assert w1.acquire().action == "wait"  # back from a pause: it waits its turn


def test_a_released_lease_is_taken_at_once(store_engine: Engine, clocks: Clocks) -> None:
    w1, w2 = _lease(store_engine, "w1", clocks), _lease(store_engine, "w2", clocks)
    w1.acquire()
    w1.release()
    assert not w1.held
    assert w2.acquire().action == "take"


def test_two_workers_racing_for_a_free_lease_one_wins(store_engine: Engine, clocks: Clocks) -> None:
    leases = [_lease(store_engine, f"w{n}", clocks) for n in range(4)]
    barrier = threading.Barrier(len(leases))
    actions: list[str] = []

    def race(lease: StoreLease) -> None:
        barrier.wait(timeout=30)
        try:
            actions.append(lease.acquire().action)
        except Exception as error:  # SQLite: "database is locked" is a lost round
            actions.append(type(error).__name__)

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert actions.count("take") == 1, actions
    assert sum(lease.held for lease in leases) == 1


def _cursor_pass(engine: Engine, lease: StoreLease, value: str, now: datetime) -> None:
    """A pass's bookkeeping, committed only under the lease (as the pipeline does)."""
    with engine.begin() as conn:
        conn.execute(pipeline_cursor.insert().values(name="after_run", value=value, updated_at=now))
        lease.fence(conn)


def test_a_pass_of_a_replaced_holder_is_rolled_back(store_engine: Engine, clocks: Clocks) -> None:
    now = datetime(2026, 9, 1, 6, 0)
    w1, w2 = _lease(store_engine, "w1", clocks), _lease(store_engine, "w2", clocks)
    w1.acquire()
    clocks.advance(TTL + 1)  # w1 stalled mid-pass; w2 took over
    w2.acquire()
    w1._held_until = clocks.mono() + 60  # w1 still believes it holds the lease
    with pytest.raises(LeaseLost):
        _cursor_pass(store_engine, w1, "run-1", now)
    assert not w1.held
    _cursor_pass(store_engine, w2, "run-1", now)  # the new holder runs it, once
    with store_engine.connect() as conn:
        assert conn.execute(select(pipeline_cursor.c.value)).scalars().all() == ["run-1"]


def test_the_fence_extends_the_lease_of_a_long_pass(store_engine: Engine, clocks: Clocks) -> None:
    w1, w2 = _lease(store_engine, "w1", clocks), _lease(store_engine, "w2", clocks)
    w1.acquire()
    clocks.advance(TTL - 1)
    with store_engine.begin() as conn:
        w1.fence(conn)
    clocks.advance(2)
    assert w2.acquire().action == "wait"
    assert w1.acquire().action == "renew"  # the keeper's renewal after a fence is no race


# --- dirty ELP claims --------------------------------------------------------------------------

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def _mark(engine: Engine, *cod_elps: str, ts: int = 1000) -> None:
    changes = [
        Change(
            "ip",
            f"21000001\x1f{c}",
            {"cod_etu": "21000001", "cod_elp": c, "group_id": None, "distant": False, "year": 2026},
            source_ts=ts,
        )
        for c in cod_elps
    ]
    with engine.begin() as conn:
        apply_changes(conn, changes, NOW)


def _dirty(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [
            (c, h)
            for c, h in conn.execute(
                select(dirty_elp.c.cod_elp, dirty_elp.c.claimed_by).order_by(dirty_elp.c.cod_elp)
            )
        ]


def _claims(engine: Engine, holder: str, clocks: Clocks) -> DirtyClaims:
    return DirtyClaims(engine, holder=holder, ttl_seconds=TTL, wall_ms=clocks.wall)


def test_claimed_elps_are_not_handed_to_another_worker(
    store_engine: Engine, clocks: Clocks
) -> None:
    _mark(store_engine, "A", "B", "C")
    w1, w2 = _claims(store_engine, "w1", clocks), _claims(store_engine, "w2", clocks)
    assert [c.cod_elp for c in w1.claim(2)] == ["A", "B"]
    assert [c.cod_elp for c in w2.claim(10)] == ["C"]
    assert w2.claim(10) != []  # its own claims are still its own
    assert _dirty(store_engine) == [("A", "w1"), ("B", "w1"), ("C", "w2")]


def test_a_dead_workers_claims_are_free_after_the_ttl(store_engine: Engine, clocks: Clocks) -> None:
    _mark(store_engine, "A", "B")
    w1, w2 = _claims(store_engine, "w1", clocks), _claims(store_engine, "w2", clocks)
    w1.claim(10)
    assert w2.claim(10) == []
    clocks.advance(TTL + 1)
    assert [c.cod_elp for c in w2.claim(10)] == ["A", "B"]


def test_a_consumed_elp_marked_again_meanwhile_stays_dirty(
    store_engine: Engine, clocks: Clocks
) -> None:
    _mark(store_engine, "A", "B")
    w1 = _claims(store_engine, "w1", clocks)
    claimed = w1.claim(10)
    _mark(store_engine, "B", ts=2000)  # a batch changed B while the pass read the old facts
    with store_engine.begin() as conn:
        assert w1.consume(conn, claimed) == 1
    assert _dirty(store_engine) == [("B", None)]  # free for the next pass


def test_a_failed_pass_releases_its_claims(store_engine: Engine, clocks: Clocks) -> None:
    _mark(store_engine, "A")
    w1, w2 = _claims(store_engine, "w1", clocks), _claims(store_engine, "w2", clocks)
    claimed = w1.claim(10)
    w1.release(claimed)
    assert [c.cod_elp for c in w2.claim(10)] == ["A"]


# --- every worker caught up ---------------------------------------------------------------------


def _presence(engine: Engine, holder: str, clocks: Clocks) -> WorkerPresence:
    return WorkerPresence(engine, holder=holder, ttl_seconds=TTL, wall_ms=clocks.wall)


def test_the_holder_waits_for_every_live_worker_to_catch_up(
    store_engine: Engine, clocks: Clocks
) -> None:
    w1, w2, w3 = (_presence(store_engine, f"w{n}", clocks) for n in (1, 2, 3))
    w1.report(True)
    w2.report(False)  # still reading a backlog
    w3.report(True)
    assert not w1.others_caught_up()
    assert w2.others_caught_up()  # its own ingest is judged by its own loop
    w2.report(True)
    w2.report(True)  # reported again: an upsert
    assert w1.others_caught_up()


def test_a_dead_or_departed_worker_no_longer_counts(store_engine: Engine, clocks: Clocks) -> None:
    w1, w2, w3, w4 = (_presence(store_engine, f"w{n}", clocks) for n in (1, 2, 3, 4))
    w2.report(True)
    w3.report(False)
    w3.leave(True)  # stopped cleanly, having read everything
    assert w1.others_caught_up()
    w4.leave(False)  # stopped with partitions unread: they wait for their next owner
    assert not w1.others_caught_up()
    clocks.advance(TTL + 1)
    assert w1.others_caught_up()


def test_a_worker_dead_while_behind_counts_until_the_group_reassigns_its_partitions(
    store_engine: Engine, clocks: Clocks
) -> None:
    holder = WorkerPresence(store_engine, holder="w1", ttl_seconds=TTL, orphan_seconds=10)
    _presence(store_engine, "w2", clocks).report(False)  # then killed
    holder._wall_ms = clocks.wall
    clocks.advance(TTL + 5)  # the group has not noticed yet: nobody reads its partitions
    assert not holder.others_caught_up()
    clocks.advance(6)
    assert holder.others_caught_up()


def test_a_worker_dead_after_saying_caught_up_counts_until_the_group_reassigns_its_partitions(
    store_engine: Engine, clocks: Clocks
) -> None:
    """Killed mid-burst, just after reading to the end of what it had: the rest of the burst
    waits on its partitions, unread until the group hands them over; its last word no
    longer holds once it stops renewing it."""
    holder = WorkerPresence(
        store_engine, holder="w1", ttl_seconds=TTL, orphan_seconds=10, wall_ms=clocks.wall
    )
    w2 = _presence(store_engine, "w2", clocks)
    w2.report(True)
    assert holder.others_caught_up()
    clocks.advance(TTL - 1)
    assert holder.others_caught_up()  # still renewing in time
    clocks.advance(2)  # not seen for a TTL: may be dead, its partitions read by nobody yet
    assert not holder.others_caught_up()
    clocks.advance(10)  # the group has reassigned them: their new owner's ingest says
    assert holder.others_caught_up()
