"""What the daemon's threads know about the outside world, for ``/readyz`` and the log.

Each condition (``store``, ``broker``) is set by the thread that meets the
outage and read by the HTTP thread. A change of state is logged once, at
WARNING when lost and INFO when back, with how long it lasted: an operator
reading the log sees one line per outage, not one per retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Condition:
    """One outside dependency: whether it answers, and why not."""

    ok: bool
    reason: str = ""
    since: float = 0.0  # monotonic time of the last change


class Conditions:
    """Thread-safe board of named conditions; unknown names count as fine.

    >>> board = Conditions()
    >>> board.lost("broker", "KafkaTimeoutError: no answer in 2 s")
    >>> board.checks(), board.reasons()
    ({'broker': False}, {'broker': 'KafkaTimeoutError: no answer in 2 s'})
    >>> board.back("broker")
    >>> board.checks()
    {'broker': True}
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._conditions: dict[str, Condition] = {}
        self._monotonic = monotonic

    def lost(self, name: str, reason: str) -> None:
        """``name`` does not answer; logged when it did before."""
        now = self._monotonic()
        with self._lock:
            before = self._conditions.get(name)
            since = before.since if before is not None and not before.ok else now
            self._conditions[name] = Condition(False, reason, since)
        if before is None or before.ok:
            log.warning("%s unreachable: %s; waiting for it, then resuming", name, reason)

    def back(self, name: str) -> None:
        """``name`` answers again; logged when it did not before."""
        now = self._monotonic()
        with self._lock:
            before = self._conditions.get(name)
            self._conditions[name] = Condition(True, "", now)
        if before is not None and not before.ok:
            log.info("%s reachable again after %.0f s", name, now - before.since)

    def is_ok(self, name: str) -> bool:
        with self._lock:
            condition = self._conditions.get(name)
        return condition is None or condition.ok

    def checks(self) -> dict[str, bool]:
        with self._lock:
            return {name: c.ok for name, c in self._conditions.items()}

    def reasons(self) -> dict[str, str]:
        """Why each failing condition fails."""
        with self._lock:
            return {name: c.reason for name, c in self._conditions.items() if not c.ok}
