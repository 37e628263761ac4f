"""Step 3b: when the store refuses a batch's data, find the message(s) at fault and apply the rest.

A batch is one transaction, so one bad row (a value the store cannot hold
that the decoder's checks missed) would fail every batch that holds it, at
every restart. ``find_rejected`` bisects the batch in transactions it rolls
back, down to the changes the store refuses; the ingest loop
dead-letters their messages (reason ``rejected_by_store``) and applies the
others. When every change of a batch of several is refused, the fault is not
the data (a bug, a schema out of date): the error is raised as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine

from monitor.kafka.ingest.dead_letter import KafkaMessage
from monitor.kafka.ingest.decode import InvalidMessage
from monitor.kafka.ingest.persist import (
    PartitionProgress,
    StoreRejected,
    persist_batch,
    store_error,
)
from monitor.kafka.mapping import Change
from monitor.store.apply import AppliedBatch, apply_changes

log = logging.getLogger(__name__)


def refused(engine: Engine, changes: Sequence[Change], now: datetime) -> str | None:
    """Why the store refuses ``changes`` together (nothing is kept), or None if it accepts them."""
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                apply_changes(conn, changes, now)
            finally:
                transaction.rollback()
    except Exception as error:
        handled = store_error(error)
        if isinstance(handled, StoreRejected):
            return str(handled)
        if handled is error:  # a bug, not the data nor an outage
            raise
        raise handled from error
    return None


def find_rejected(engine: Engine, changes: Sequence[Change], now: datetime) -> dict[int, str]:
    """Index -> reason of each change the store refuses, alone or after the changes before it.

    Bisection keeping what passed as the base of the next half: a change refused
    on its own is found in log(n) transactions, and so is the later of two changes
    the store takes for one row (MariaDB's collation compares "E1" and "é1" equal).
    """
    found: dict[int, str] = {}

    def bisect(base: list[int], candidates: list[int]) -> list[int]:
        """Apply ``candidates`` after ``base``; return those accepted, recording the others."""
        reason = refused(engine, [changes[i] for i in base + candidates], now)
        if reason is None:
            return candidates
        if len(candidates) == 1:
            found[candidates[0]] = reason
            return []
        middle = len(candidates) // 2
        accepted = bisect(base, candidates[:middle])
        return accepted + bisect(base + accepted, candidates[middle:])

    bisect([], list(range(len(changes))))
    return found


def persist_isolating(
    engine: Engine,
    changes: Sequence[Change],
    origins: Sequence[KafkaMessage],
    progress: dict[tuple[str, int], PartitionProgress],
    now: datetime,
    *,
    persist: Callable[..., AppliedBatch] = persist_batch,
) -> tuple[AppliedBatch, list[tuple[KafkaMessage, InvalidMessage]]]:
    """Persist the batch; if the store refuses some data, persist the rest and return the culprits.

    ``origins[i]`` is the message ``changes[i]`` came from. Raises
    ``StoreUnavailable`` on an outage (the caller retries the whole step).
    """
    try:
        return persist(engine, changes, progress.values(), now), []
    except StoreRejected as rejected:
        culprits = find_rejected(engine, changes, now)
        if not culprits or (len(culprits) == len(changes) > 1):
            raise rejected.__cause__ or rejected from None
        log.warning("the store refused %d change(s) of a batch: dead-lettering them", len(culprits))
    dead: list[tuple[KafkaMessage, InvalidMessage]] = []
    for index, reason in culprits.items():
        message = origins[index]
        progress[(message.topic, message.partition)].rejected(message.offset)
        dead.append((message, InvalidMessage("rejected_by_store", reason)))
    good = [change for i, change in enumerate(changes) if i not in culprits]
    return persist(engine, good, progress.values(), now), dead
