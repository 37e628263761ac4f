"""Step 4: commit a batch's offsets, and keep the group membership while a step waits.

A commit refused because the group is rebalancing is retried after a poll
(the poll takes part in the rebalance). Partitions that moved to another
member are not committed: their new owner consumes them again from the last
commit and re-applies idempotently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import TopicPartition
from kafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaTimeoutError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from kafka.structs import OffsetAndMetadata

from monitor.kafka.ingest.backoff import Backoff

log = logging.getLogger(__name__)

COMMIT_RETRIABLE = (
    RebalanceInProgressError,
    CommitFailedError,
    IllegalGenerationError,
    UnknownMemberIdError,
    KafkaTimeoutError,
)


class BatchAbandoned(Exception):
    """Asked to stop while a step kept failing: the batch stays uncommitted, for the next start."""


def keep_alive(
    consumer: Any,
    seconds: float,
    stop: threading.Event | None,
    on_poll: Callable[[Any], None] | None = None,
) -> None:
    """Poll with every partition paused for ``seconds``, so the group keeps this member."""
    deadline = time.monotonic() + seconds
    while True:
        if stop is not None and stop.is_set():
            raise BatchAbandoned("asked to stop while a step was failing")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        consumer.pause(*consumer.assignment())
        fetched = consumer.poll(timeout_ms=max(1, int(min(remaining, 0.5) * 1000)))
        # A rebalance inside poll may hand us unpaused partitions: give their records
        # back (seek), they are consumed after the batch we hold.
        for tp, records in fetched.items():
            if records:
                consumer.seek(tp, min(r.offset for r in records))
                consumer.pause(tp)
        if on_poll is not None:
            on_poll(consumer)


def commit_offsets(
    consumer: Any,
    next_offsets: dict[TopicPartition, int],
    stop: threading.Event | None,
    *,
    retry_max_seconds: float,
    grace_seconds: float = 10.0,
) -> bool:
    """Commit ``next_offsets`` of the partitions still ours; return whether all were.

    Retries while the group rebalances; once ``stop`` is set it keeps trying
    for ``grace_seconds``, then raises ``BatchAbandoned``.
    """
    backoff = Backoff(0.1, retry_max_seconds)
    give_up_at: float | None = None
    while True:
        assigned = consumer.assignment()
        mine = {
            tp: OffsetAndMetadata(offset, "", -1)
            for tp, offset in next_offsets.items()
            if tp in assigned
        }
        if len(mine) < len(next_offsets):
            log.info(
                "%d partition(s) moved to another member before the commit; "
                "it consumes them again and re-applies idempotently",
                len(next_offsets) - len(mine),
            )
        if not mine:
            return False
        try:
            consumer.commit(offsets=mine)
        except COMMIT_RETRIABLE as error:
            if stop is not None and stop.is_set():
                give_up_at = give_up_at or time.monotonic() + grace_seconds
                if time.monotonic() > give_up_at:
                    raise BatchAbandoned(
                        "stopping before the offset commit went through"
                    ) from error
            log.info("offset commit refused (%s); polling, then retrying", type(error).__name__)
            try:
                keep_alive(consumer, backoff.next_delay(), None)
            finally:
                consumer.resume(*consumer.assignment())
            continue
        # A partition given back to us by a rebalance restarts at its previous
        # commit: skip what this batch already applied.
        for tp, committed in mine.items():
            if consumer.position(tp) < committed.offset:
                consumer.seek(tp, committed.offset)
        return len(mine) == len(next_offsets)
