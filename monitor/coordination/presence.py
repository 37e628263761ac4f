"""Whether the whole store is caught up, not only this worker's partitions.

Each worker says, at every lease round, whether its ingest has read its
partitions to their end. The lease holder compares sources (ahead, after the
run, daily) only when every worker seen within the TTL says so: otherwise it
would compare a topic read to its end with another half read by a busy
colleague, and email alerts that vanish a minute later (issue 14, item 3).
A worker not seen for a TTL no longer counts, except one that was behind: its
partitions wait for the group to notice its death (the session timeout) and for
their new owner to say it is behind, so it counts for that long too.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, or_, select

from monitor.coordination.lease import WallClockMs, wall_clock_ms
from monitor.coordination.tables import coordination_worker
from monitor.store.upsert import upsert

# Rows of workers gone for this many TTLs are deleted (pods get new names at each rollout).
FORGET_AFTER_TTLS = 20


class WorkerPresence:
    """One worker's row in ``coordination_worker``, and the holder's view of them all."""

    def __init__(
        self,
        engine: Engine,
        *,
        holder: str,
        ttl_seconds: float,
        orphan_seconds: float = 0.0,
        wall_ms: WallClockMs = wall_clock_ms,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl_ms = int(ttl_seconds * 1000)
        self.orphan_ms = int(orphan_seconds * 1000)
        self._wall_ms = wall_ms

    def report(self, caught_up: bool) -> None:
        now_ms = self._wall_ms()
        row = {"holder": self.holder, "caught_up": caught_up, "seen_at_ms": now_ms}
        with self.engine.begin() as conn:
            conn.execute(
                upsert(
                    conn.dialect.name,
                    coordination_worker,
                    [row],
                    {"caught_up": caught_up, "seen_at_ms": now_ms},
                )
            )
            conn.execute(
                delete(coordination_worker).where(
                    coordination_worker.c.seen_at_ms < now_ms - FORGET_AFTER_TTLS * self.ttl_ms
                )
            )

    def others_caught_up(self) -> bool:
        """Whether no other worker says its ingest is behind, or may have died with its
        partitions not yet handed over.

        A worker not seen for a TTL may be dead: what it said (caught up, before it died
        mid-burst) no longer holds for its partitions, which nobody reads until the group
        hands them over (``orphan_seconds``, the session timeout). It counts as behind
        until then; after that its partitions are another's, whose ingest says.
        """
        now_ms = self._wall_ms()
        cutoff = now_ms - self.ttl_ms - self.orphan_ms
        with self.engine.connect() as conn:
            behind = conn.execute(
                select(func.count())
                .select_from(coordination_worker)
                .where(
                    coordination_worker.c.holder != self.holder,
                    coordination_worker.c.seen_at_ms >= cutoff,
                    or_(
                        coordination_worker.c.caught_up.is_(False),
                        coordination_worker.c.seen_at_ms < now_ms - self.ttl_ms,
                    ),
                )
            ).scalar_one()
        return int(behind) == 0

    def leave(self, caught_up: bool) -> None:
        """On a clean stop: no longer counted, unless it leaves partitions behind."""
        if not caught_up:
            self.report(False)
            return
        with self.engine.begin() as conn:
            conn.execute(
                delete(coordination_worker).where(coordination_worker.c.holder == self.holder)
            )
