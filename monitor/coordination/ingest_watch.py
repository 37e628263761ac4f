"""Whether this worker's ingest has read its share to the end, rebalances included.

The ingest loop's ``caught_up`` is true when every *assigned* partition is read
to its high watermark, hence also while a rebalance has taken every partition
away (a worker joined or died): then nobody may be reading them. A worker
without partitions counts as caught up only once it has had none for longer
than a rebalance takes (a standby beyond the partition count).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class IngestWatch:
    """``settled()``: caught up on a non-empty assignment, or a standby for ``standby_after`` s."""

    def __init__(
        self,
        caught_up: Callable[[], bool],
        assigned: Callable[[], int],
        *,
        standby_after: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._caught_up = caught_up
        self._assigned = assigned
        self.standby_after = standby_after
        self._monotonic = monotonic
        self._unassigned_since: float | None = None

    def settled(self) -> bool:
        try:
            assigned = self._assigned()
        except Exception:  # the consumer is not open yet, or closing
            return False
        if assigned > 0:
            self._unassigned_since = None
            return self._caught_up()
        now = self._monotonic()
        if self._unassigned_since is None:
            self._unassigned_since = now
        return now - self._unassigned_since >= self.standby_after
