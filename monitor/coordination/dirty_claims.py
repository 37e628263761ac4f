"""Dirty ELPs are claimed by the pass that reads them, not read by every worker.

A claim names its holder and when it was made: a claim older than the TTL is
free again, so the ELPs of a worker that died mid-pass are not lost, only
delayed. The rows are deleted in the pass's own transaction, and only at the
generation the pass read: an ELP marked again meanwhile (``apply._remember_dirty``
bumps the generation) stays dirty for the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, bindparam, delete, or_, select, update

from monitor.coordination.lease import WallClockMs, wall_clock_ms
from monitor.store.schema import dirty_elp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """A dirty ELP this worker claimed, at the generation it claimed."""

    cod_elp: str
    generation: int
    offer_changed: bool = False


class DirtyClaims:
    """Claim, consume and release dirty ELPs for one worker."""

    def __init__(
        self,
        engine: Engine,
        *,
        holder: str,
        ttl_seconds: float,
        wall_ms: WallClockMs = wall_clock_ms,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl_ms = int(ttl_seconds * 1000)
        self._wall_ms = wall_ms

    def claim(self, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` free (or expired, or already ours) dirty ELPs, in a short transaction.

        ELPs whose own row changed (``offer_changed``) come first, alone: under steady
        traffic the others are many (every ELP a student's row touched), and a course
        about to be archived should not wait behind them.
        """
        now_ms = self._wall_ms()
        claimable = or_(
            dirty_elp.c.claimed_by.is_(None),
            dirty_elp.c.claimed_at_ms < now_ms - self.ttl_ms,
            dirty_elp.c.claimed_by == self.holder,
        )
        with self.engine.begin() as conn:
            first = conn.execute(
                select(dirty_elp.c.cod_elp, dirty_elp.c.offer_changed)
                .where(claimable)
                .order_by(dirty_elp.c.offer_changed.desc(), dirty_elp.c.cod_elp)
                .limit(limit)
            ).all()
            if not first:
                return []
            # The offer's changes alone when there are some, else the others.
            codes = [code for code, offer in first if bool(offer) == bool(first[0][1])]
            # Re-checked in the UPDATE: another worker may have claimed some since the SELECT.
            conn.execute(
                update(dirty_elp)
                .where(dirty_elp.c.cod_elp.in_(codes), claimable)
                .values(claimed_by=self.holder, claimed_at_ms=now_ms)
            )
            rows = conn.execute(
                select(dirty_elp.c.cod_elp, dirty_elp.c.generation, dirty_elp.c.offer_changed)
                .where(dirty_elp.c.cod_elp.in_(codes))
                .where(dirty_elp.c.claimed_by == self.holder)
                .where(dirty_elp.c.claimed_at_ms == now_ms)
                .order_by(dirty_elp.c.cod_elp)
            ).all()
        return [Claimed(code, generation, bool(offer)) for code, generation, offer in rows]

    def consume(self, conn: Connection, claimed: Sequence[Claimed]) -> int:
        """In the pass's transaction: delete what it handled, free what was marked again; deleted count."""
        if not claimed:
            return 0
        ordered = sorted(claimed, key=lambda c: c.cod_elp)
        deleted = conn.execute(
            delete(dirty_elp).where(
                and_(
                    dirty_elp.c.cod_elp == bindparam("b_cod_elp"),
                    dirty_elp.c.generation == bindparam("b_generation"),
                    dirty_elp.c.claimed_by == self.holder,
                )
            ),
            [{"b_cod_elp": c.cod_elp, "b_generation": c.generation} for c in ordered],
        ).rowcount
        # Marked again meanwhile: dirty still, but what put it first in line was handled.
        self._free(conn, [c.cod_elp for c in ordered], handled=True)
        return int(deleted)

    def release(self, claimed: Sequence[Claimed]) -> None:
        """After a failed pass: free the claims at once rather than after their TTL.

        Best effort: when the store is what failed, the claims expire after their TTL.
        """
        if not claimed:
            return
        try:
            with self.engine.begin() as conn:
                self._free(conn, sorted(c.cod_elp for c in claimed))
        except Exception as error:
            log.warning("dirty ELP claims left to expire: %s", type(error).__name__)

    def _free(self, conn: Connection, codes: list[str], *, handled: bool = False) -> None:
        values: dict[str, object] = {"claimed_by": None, "claimed_at_ms": None}
        if handled:
            values["offer_changed"] = False
        conn.execute(
            update(dirty_elp)
            .where(dirty_elp.c.cod_elp.in_(codes), dirty_elp.c.claimed_by == self.holder)
            .values(**values)
        )
