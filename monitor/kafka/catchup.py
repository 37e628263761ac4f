"""Whether the state store holds everything published up to a moment: "caught up".

Detectors that compare sources must not run on a half-read store (after a
restart with a backlog, after a rebalance): they would raise alerts that a
minute later are gone, and miss real ones. A *ticket* answers "does the
store hold everything published before I asked?":

1. the detection thread asks (``request``) and notes when;
2. the ingest thread, which owns the consumer, serves it (``serve``): the
   end offset of every partition of the source topics, read now. On Tansu,
   ListOffsets under-reports batched records, so an assigned partition's
   end is the larger of that and the fetch high watermark, and the ticket
   waits until every assigned partition was fetched once;
3. the ticket is reached when ``ingest_progress`` (written in the same
   transaction as the changes) is at or past every end.

No partition assigned is not caught up: the ticket waits for the group join.
A rebalance drops the tickets served before it. Reading the progress from
the shared store, not from this consumer, also covers partitions that other
workers of the group consume.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Connection, select

from monitor.store.schema import ingest_progress

log = logging.getLogger(__name__)

END_OFFSETS_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class Ticket:
    number: int
    requested_at: float  # monotonic
    generation: int  # the assignment it was asked under


class CatchUp:
    """Tickets shared by the ingest thread (serves them) and the detection thread (asks)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._pending: list[Ticket] = []
        self._ends: dict[int, dict[tuple[str, int], int]] = {}
        self._monotonic = monotonic
        self.generation = 0
        self.assigned_at = monotonic()
        self.assigned = False

    def now(self) -> float:
        """The monotonic time tickets are stamped with."""
        return self._monotonic()

    # -- ingest thread ------------------------------------------------------------------------

    def on_assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """A rebalance gave us ``partitions``: earlier tickets no longer say anything."""
        with self._lock:
            self.generation += 1
            self.assigned_at = self._monotonic()
            self.assigned = bool(list(partitions))
            self._pending.clear()
            self._ends.clear()

    def on_revoked(self) -> None:
        with self._lock:
            self.assigned = False

    def serve(self, consumer: Any, topics: Iterable[str]) -> None:
        """Read the end offsets for the tickets waiting, if the consumer can say them now."""
        with self._lock:
            waiting = list(self._pending)
            generation = self.generation
        if not waiting:
            return
        ends = _ends_now(consumer, topics)
        if ends is None:
            return
        with self._lock:
            if generation != self.generation:
                return  # a rebalance happened meanwhile: the detection thread asks again
            for ticket in waiting:
                self._ends[ticket.number] = ends
            self._pending = [t for t in self._pending if t not in waiting]

    # -- detection thread ---------------------------------------------------------------------

    def request(self) -> Ticket:
        with self._lock:
            ticket = Ticket(next(self._numbers), self._monotonic(), self.generation)
            self._pending.append(ticket)
            return ticket

    def reached(self, ticket: Ticket, conn: Connection) -> bool | None:
        """Whether the store holds every end of ``ticket``; None when it must be asked again."""
        with self._lock:
            if ticket.generation != self.generation:
                return None
            ends = self._ends.get(ticket.number)
        if ends is None:
            return False
        progress = {
            (row.topic, row.partition): row.last_offset + 1
            for row in conn.execute(
                select(
                    ingest_progress.c.topic,
                    ingest_progress.c.partition,
                    ingest_progress.c.last_offset,
                )
            )
        }
        done = all(progress.get(slot, 0) >= end for slot, end in ends.items() if end > 0)
        if done:
            with self._lock:
                self._ends.pop(ticket.number, None)
        return done


def _ends_now(consumer: Any, topics: Iterable[str]) -> dict[tuple[str, int], int] | None:
    """Every source partition's end offset now; None when the consumer cannot tell yet."""
    assigned = set(consumer.assignment())
    if not assigned:
        return None
    highwater: dict[TopicPartition, int] = {}
    for tp in assigned:
        known = consumer.highwater(tp)
        if known is None:
            return None  # not fetched since the assignment: its end is not known for sure
        highwater[tp] = known
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    try:
        listed = consumer.end_offsets(partitions, timeout_ms=END_OFFSETS_TIMEOUT_MS)
    except KafkaError as error:
        log.debug("end offsets not read this time: %s", error)
        return None
    return {
        (tp.topic, tp.partition): max(listed.get(tp) or 0, highwater.get(tp, 0))
        for tp in set(partitions) | assigned
    }


class CaughtUpGate:
    """The detection thread's side: since when the store is known to hold everything.

    Each ``check`` looks at the ticket in hand; once reached, it remembers when
    that ticket was asked and asks a new one, so the answer keeps up with the
    broker. ``holds_everything_before(t)``: a ticket asked at or after ``t``,
    and after the last rebalance, was reached.
    """

    def __init__(self, catchup: CatchUp) -> None:
        self.catchup = catchup
        self._ticket: Ticket | None = None
        self.caught_up_as_of: float | None = None
        self._by_construction = False

    def caught_up_by_construction(self) -> None:
        """The caller applies every change itself before each detection step (a replay):
        at each ``check`` the store holds everything published so far, no ticket needed."""
        self._by_construction = True
        self._ticket = None

    def check(self, conn: Connection) -> None:
        if self._by_construction:
            self.caught_up_as_of = self.catchup.now()
            return
        if self._ticket is None:
            self._ticket = self.catchup.request()
            return
        reached = self.catchup.reached(self._ticket, conn)
        if reached is None:  # rebalanced since it was asked
            self._ticket = self.catchup.request()
        elif reached:
            self.caught_up_as_of = self._ticket.requested_at
            self._ticket = self.catchup.request()

    @property
    def ever(self) -> bool:
        """Whether the store was caught up once since this process started."""
        return self.caught_up_as_of is not None

    def holds_everything_before(self, moment: float) -> bool:
        as_of = self.caught_up_as_of
        return as_of is not None and as_of >= max(moment, self.catchup.assigned_at)
