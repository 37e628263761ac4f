"""The lease's rules, pure: from the stored row, who asks and the time, what to write.

One row per lease names its holder, its term (incremented at every takeover) and
when it expires. The holder renews it every TTL/3; anyone takes it once it has
expired; nobody else touches it before. The adapter (``monitor.coordination.lease``)
writes the decision with a compare-and-set on what the decision was made from, so
two workers deciding at once cannot both win.

>>> decide(None, "w1", now_ms=1_000, ttl_ms=15_000).action
'take'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Action = Literal["take", "renew", "wait"]


@dataclass(frozen=True)
class LeaseRow:
    """The lease as stored: who holds it, under which term, until when (epoch ms)."""

    holder: str
    term: int
    acquired_at_ms: int
    renewed_at_ms: int
    expires_at_ms: int

    def expired(self, now_ms: int) -> bool:
        return self.expires_at_ms <= now_ms


@dataclass(frozen=True)
class Decision:
    """What to do: ``take`` (write ``row``, a new term), ``renew`` (same term) or ``wait``.

    ``handover`` is true when the lease is taken from another holder (who died,
    stalled or left); ``reason`` says which rule applied, for the logs.
    """

    action: Action
    row: LeaseRow | None
    handover: bool
    reason: str


def decide(current: LeaseRow | None, me: str, *, now_ms: int, ttl_ms: int) -> Decision:
    """The rule for ``me`` at ``now_ms``, given the stored row (None: never held)."""
    if ttl_ms <= 0:
        raise ValueError("a lease needs a positive time to live")
    expires = now_ms + ttl_ms
    if current is None:
        row = LeaseRow(me, 1, now_ms, now_ms, expires)
        return Decision("take", row, handover=False, reason="never held")
    if current.holder == me:
        # Even past its expiry: nobody took it meanwhile (that would have changed the
        # holder), so the term and the passes begun under it stay valid.
        row = replace(current, renewed_at_ms=now_ms, expires_at_ms=expires)
        return Decision("renew", row, handover=False, reason="held by me")
    if current.expired(now_ms):
        row = LeaseRow(me, current.term + 1, now_ms, now_ms, expires)
        return Decision("take", row, handover=True, reason=f"expired, held by {current.holder}")
    return Decision("wait", None, handover=False, reason=f"held by {current.holder}")


def renew_every(ttl_seconds: float) -> float:
    """How often the holder renews: three chances before the lease expires."""
    return ttl_seconds / 3
