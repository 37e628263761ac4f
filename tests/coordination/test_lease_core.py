"""The lease's rules, pure: take, renew, wait and hand over, from a row and a clock."""

from __future__ import annotations

import pytest

from monitor.coordination.lease_core import LeaseRow, decide, renew_every

TTL = 15_000


def _held_by(holder: str, *, term: int = 3, expires_at_ms: int = 20_000) -> LeaseRow:
    return LeaseRow(holder, term, 1_000, 5_000, expires_at_ms)


def test_a_lease_never_held_is_taken_under_term_one() -> None:
    decision = decide(None, "w1", now_ms=1_000, ttl_ms=TTL)
    assert decision.action == "take" and not decision.handover
    assert decision.row == LeaseRow("w1", 1, 1_000, 1_000, 16_000)


def test_the_holder_renews_under_the_same_term() -> None:
    decision = decide(_held_by("w1"), "w1", now_ms=10_000, ttl_ms=TTL)
    assert decision.action == "renew"
    assert decision.row == LeaseRow("w1", 3, 1_000, 10_000, 25_000)


def test_the_holder_renews_even_late_when_nobody_took_it() -> None:
    decision = decide(_held_by("w1"), "w1", now_ms=30_000, ttl_ms=TTL)
    assert decision.action == "renew" and decision.row is not None
    assert decision.row.term == 3 and decision.row.expires_at_ms == 45_000


@pytest.mark.parametrize("now_ms", [5_000, 19_999])
def test_another_worker_waits_while_the_lease_is_valid(now_ms: int) -> None:
    decision = decide(_held_by("w1"), "w2", now_ms=now_ms, ttl_ms=TTL)
    assert decision.action == "wait" and decision.row is None
    assert "w1" in decision.reason


@pytest.mark.parametrize("now_ms", [20_000, 90_000])
def test_an_expired_lease_is_taken_over_under_a_new_term(now_ms: int) -> None:
    decision = decide(_held_by("w1"), "w2", now_ms=now_ms, ttl_ms=TTL)
    assert decision.action == "take" and decision.handover
    assert decision.row == LeaseRow("w2", 4, now_ms, now_ms, now_ms + TTL)


def test_a_lease_needs_a_positive_time_to_live() -> None:
    with pytest.raises(ValueError, match="positive"):
        decide(None, "w1", now_ms=0, ttl_ms=0)


def test_the_holder_renews_three_times_per_time_to_live() -> None:
    assert renew_every(15) == 5
