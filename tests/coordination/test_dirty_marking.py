"""Marking ELPs dirty from several workers at once (issue 14, item 1): an upsert, never a crash.

Each "worker" is a thread with its own connection that applies, in its own
transaction, IPs of its own students on the same ELPs as the others, released
together by a barrier: on MariaDB the old read-then-insert raised
``IntegrityError (1062, "Duplicate entry ... for key 'PRIMARY'")`` here.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from monitor.coordination.dirty_claims import DirtyClaims
from monitor.kafka.mapping import Change
from monitor.store.apply import apply_changes
from monitor.store.schema import dirty_elp

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
WORKERS = 4
ROUNDS = 15
ELPS = [f"H1HIS{n:05d}" for n in range(400, 460)]


def _ips(worker: int, round_: int) -> list[Change]:
    """IPs of this worker's students on every ELP: distinct keys, the same dirty ELPs."""
    changes = []
    for cod_elp in ELPS:
        cod_etu = f"2{worker:02d}{round_:03d}{cod_elp[-3:]}"
        row = {
            "cod_etu": cod_etu,
            "cod_elp": cod_elp,
            "group_id": None,
            "distant": False,
            "year": 2026,
        }
        changes.append(Change("ip", f"{cod_etu}\x1f{cod_elp}", row, source_ts=1000 + round_))
    return changes


def _race(engine: Engine) -> tuple[list[BaseException], int]:
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    retried = 0
    lock = threading.Lock()

    def worker(number: int) -> None:
        nonlocal retried
        for round_ in range(ROUNDS):
            barrier.wait(timeout=60)
            while True:
                try:
                    with engine.begin() as conn:
                        apply_changes(conn, _ips(number, round_), NOW)
                    break
                except OperationalError as error:
                    # A deadlock (1213) is an outage to the ingest loop: it retries the batch.
                    if getattr(error.orig, "args", (None,))[0] != 1213:
                        with lock:
                            errors.append(error)
                        return
                    with lock:
                        retried += 1
                except BaseException as error:
                    with lock:
                        errors.append(error)
                    barrier.abort()
                    return
            if round_ % 5 == 2:  # a pass drained them meanwhile: the next round inserts again
                with engine.begin() as conn:
                    conn.execute(dirty_elp.delete().where(dirty_elp.c.cod_elp.in_(ELPS[:10])))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors, retried


def test_workers_marking_the_same_elps_at_once_never_collide(store_engine: Engine) -> None:
    errors, _deadlocks = _race(store_engine)
    assert errors == []
    with store_engine.connect() as conn:
        rows = conn.execute(select(dirty_elp.c.cod_elp, dirty_elp.c.generation)).all()
    assert sorted(c for c, _g in rows) == ELPS  # each ELP once, none lost
    # Every mark after the first bumped the generation: a pass that read an older one
    # leaves the ELP for the next pass.
    assert max(g for _c, g in rows) > 0


def test_marking_again_bumps_the_generation(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, _ips(0, 0)[:1], NOW)
    with store_engine.begin() as conn:
        apply_changes(conn, _ips(1, 0)[:1], NOW)
        apply_changes(conn, _ips(2, 0)[:1], NOW)
    with store_engine.connect() as conn:
        assert conn.execute(select(dirty_elp.c.cod_elp, dirty_elp.c.generation)).all() == [
            (ELPS[0], 2)
        ]


def test_a_change_of_the_elp_s_own_row_puts_it_first_until_a_pass_handles_it(
    store_engine: Engine,
) -> None:
    """``offer_changed`` survives a later mark by a student's row (an OR in the upsert, on
    both stores); the pass that handles the ELP clears it, though traffic marked it again."""
    elp = {"cod_elp": ELPS[0], "label": "Histoire", "cod_cmp": "12", "year": 2026}
    with store_engine.begin() as conn:
        apply_changes(conn, _ips(0, 0)[1:3], NOW)  # two ELPs marked by students' rows
        apply_changes(conn, [Change("elp", ELPS[0], elp, source_ts=1000)], NOW)
        apply_changes(conn, _ips(1, 0)[:1], NOW)  # the same ELP, by a student's row after
    claims = DirtyClaims(store_engine, holder="w1", ttl_seconds=60)
    first = claims.claim(10)
    assert [(c.cod_elp, c.offer_changed) for c in first] == [(ELPS[0], True)]
    with store_engine.begin() as conn:
        apply_changes(conn, _ips(2, 0)[:1], NOW)  # marked again during the pass
        claims.consume(conn, first)
    rest = claims.claim(10)
    assert sorted((c.cod_elp, c.offer_changed) for c in rest) == [
        (ELPS[0], False),
        (ELPS[1], False),
        (ELPS[2], False),
    ]
