"""The lease in the state store: a row, taken and renewed by compare-and-set (SQLite, MariaDB).

``StoreLease.acquire()`` is one round of the rules of ``lease_core``: read the
row, decide, write the decision only if the row is still what it was decided
from. ``fence(conn)``, called inside a pass's transaction just before it
commits, checks that the lease is still ours under the term we hold, and
extends it: on MariaDB the row then stays locked until the commit, so no one
can take the lease between the check and the commit; on SQLite the pass holds
the database's write lock. A worker that stalled past its lease and was
replaced therefore rolls its pass back instead of committing it twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from monitor.coordination.lease_core import Decision, LeaseRow, decide
from monitor.coordination.tables import coordination_lease

log = logging.getLogger(__name__)

DETECTION_LEASE = "detection"

WallClockMs = Callable[[], int]


def wall_clock_ms() -> int:
    """The machine's clock: leases compare the workers' clocks, kept close by NTP."""
    return time.time_ns() // 1_000_000


def worker_identity() -> str:
    """Who this process is, in the lease row and the claims: host (the pod's name) and pid."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LeaseLost(RuntimeError):
    """The lease changed hands while a pass ran: its transaction is rolled back."""


class StoreLease:
    """One named lease, as seen by one worker."""

    def __init__(
        self,
        engine: Engine,
        *,
        holder: str,
        ttl_seconds: float,
        name: str = DETECTION_LEASE,
        wall_ms: WallClockMs = wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.name = name
        self.ttl_ms = int(ttl_seconds * 1000)
        self._wall_ms = wall_ms
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._term: int | None = None
        self._held_until = 0.0  # local monotonic deadline: a slow store must not extend it

    @property
    def held(self) -> bool:
        """Whether this worker holds the lease, as of its last successful renewal."""
        with self._lock:
            return self._term is not None and self._monotonic() < self._held_until

    @property
    def term(self) -> int | None:
        with self._lock:
            return self._term

    def acquire(self) -> Decision:
        """Take, renew or wait (one round); the decision says which, and whether it was a handover.

        A compare-and-set that finds the row changed meanwhile returns ``wait``.
        """
        started = self._monotonic()
        now_ms = self._wall_ms()
        decision = Decision("wait", None, handover=False, reason="not read")
        try:
            with self.engine.begin() as conn:
                current = self._read(conn)
                decision = decide(current, self.holder, now_ms=now_ms, ttl_ms=self.ttl_ms)
                written = decision.row is not None and self._write(conn, current, decision.row)
        except IntegrityError:
            written = False  # another worker inserted the row first
        if decision.row is None or not written:
            self._forget()
            return decision if decision.row is None else _lost_race(decision)
        with self._lock:
            self._term = decision.row.term
            self._held_until = started + self.ttl_ms / 1000
        return decision

    def fence(self, conn: Connection) -> None:
        """In a pass's transaction, before its commit: still ours under our term, or ``LeaseLost``."""
        term = self.term
        now_ms = self._wall_ms()
        updated = (
            term is not None
            and conn.execute(
                update(coordination_lease)
                .where(
                    coordination_lease.c.name == self.name,
                    coordination_lease.c.holder == self.holder,
                    coordination_lease.c.term == term,
                )
                .values(renewed_at_ms=now_ms, expires_at_ms=now_ms + self.ttl_ms)
            ).rowcount
            == 1
        )
        if not updated:
            self._forget()
            raise LeaseLost(f"the {self.name} lease is no longer held by {self.holder}")

    def release(self) -> None:
        """On a clean stop: expire our lease now, so another worker takes over at once."""
        term = self.term
        self._forget()
        if term is None:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(coordination_lease)
                .where(
                    coordination_lease.c.name == self.name,
                    coordination_lease.c.holder == self.holder,
                    coordination_lease.c.term == term,
                )
                .values(expires_at_ms=self._wall_ms())
            )

    def current(self) -> LeaseRow | None:
        """The stored row (for status output and tests)."""
        with self.engine.connect() as conn:
            return self._read(conn)

    def _forget(self) -> None:
        with self._lock:
            self._term = None
            self._held_until = 0.0

    def _read(self, conn: Connection) -> LeaseRow | None:
        row = conn.execute(
            select(
                coordination_lease.c.holder,
                coordination_lease.c.term,
                coordination_lease.c.acquired_at_ms,
                coordination_lease.c.renewed_at_ms,
                coordination_lease.c.expires_at_ms,
            ).where(coordination_lease.c.name == self.name)
        ).first()
        return None if row is None else LeaseRow(*row)

    def _write(self, conn: Connection, seen: LeaseRow | None, row: LeaseRow) -> bool:
        values = {
            "holder": row.holder,
            "term": row.term,
            "acquired_at_ms": row.acquired_at_ms,
            "renewed_at_ms": row.renewed_at_ms,
            "expires_at_ms": row.expires_at_ms,
        }
        if seen is None:
            conn.execute(coordination_lease.insert().values(name=self.name, **values))
            return True
        tenure = (
            coordination_lease.c.name == self.name,
            coordination_lease.c.holder == seen.holder,
            coordination_lease.c.term == seen.term,
        )
        # Renewing: our tenure is enough (a pass's fence may have just extended it).
        # Taking over: only if it is still the expired row decided from.
        condition = (
            tenure
            if seen.holder == row.holder
            else (*tenure, coordination_lease.c.expires_at_ms == seen.expires_at_ms)
        )
        changed = conn.execute(update(coordination_lease).where(*condition).values(**values))
        return changed.rowcount == 1


def _lost_race(decision: Decision) -> Decision:
    return Decision("wait", None, handover=False, reason=f"lost the race to {decision.action}")
