"""The notification policy: what is emailed at once, when the digest is due, when to remind."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from alerts.policy import ImmediatePrediction, NotificationPolicy

POLICY = NotificationPolicy()
DAY = timedelta(days=1)


def alert(
    detector: str = "course_archived",
    severity: str = "warning",
    phase: str = "predicted",
    affected_count: int = 37,
) -> SimpleNamespace:
    return SimpleNamespace(
        detector=detector, severity=severity, phase=phase, affected_count=affected_count
    )


@pytest.mark.parametrize(
    ("routed", "immediate"),
    [
        # Archived tonight: tomorrow morning's digest would be too late.
        (alert(), True),
        (alert(affected_count=1), True),
        (alert(affected_count=0), False),
        # Once it has happened, the digest tells (unless critical).
        (alert(phase="occurred"), False),
        (alert(phase="occurred", severity="critical"), True),
        (alert(detector="teacher_missing", phase="predicted"), False),
        (alert(detector="teacher_missing", phase="occurred", severity="critical"), True),
        (alert(detector="group_missing", phase="occurred", severity="info"), False),
    ],
    ids=[
        "archive-tonight",
        "archive-tonight-one-person",
        "archive-tonight-nobody",
        "archived-warning",
        "archived-critical",
        "other-prediction",
        "other-critical",
        "info",
    ],
)
def test_default_policy_emails_at_once_only_what_cannot_wait(
    routed: SimpleNamespace, immediate: bool
) -> None:
    assert POLICY.is_immediate(routed) is immediate


def test_immediacy_is_configurable() -> None:
    policy = NotificationPolicy(
        immediate_severities=frozenset(),
        immediate_predictions=(ImmediatePrediction("course_archived", 30),),
    )
    assert policy.is_immediate(alert(affected_count=30)) is True
    assert policy.is_immediate(alert(affected_count=29)) is False
    assert policy.is_immediate(alert(phase="occurred", severity="critical")) is False


@pytest.mark.parametrize(
    ("now", "day", "slot_utc"),
    [
        # Winter (UTC+1): 07:30 in Paris is 06:30 UTC.
        (datetime(2026, 11, 30, 6, 30, tzinfo=UTC), date(2026, 11, 30), (11, 30, 6)),
        (datetime(2026, 11, 30, 6, 29, tzinfo=UTC), date(2026, 11, 29), (11, 29, 6)),
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), date(2026, 11, 30), (11, 30, 6)),
        # Summer (UTC+2): 05:30 UTC.
        (datetime(2026, 6, 15, 5, 30, tzinfo=UTC), date(2026, 6, 15), (6, 15, 5)),
        # The night of the change to summer time (29 March 2026).
        (datetime(2026, 3, 29, 5, 45, tzinfo=UTC), date(2026, 3, 29), (3, 29, 5)),
    ],
)
def test_digest_slot_is_the_local_digest_time(
    now: datetime, day: date, slot_utc: tuple[int, int, int]
) -> None:
    got_day, slot = POLICY.digest_slot(now)
    month, dom, hour = slot_utc
    assert got_day == day
    assert slot.astimezone(UTC) == datetime(2026, month, dom, hour, 30, tzinfo=UTC)


def test_digest_time_and_timezone_are_configurable() -> None:
    policy = NotificationPolicy(digest_time=time(8, 0), timezone="America/Cayenne")
    day, slot = policy.digest_slot(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert (day, slot.astimezone(UTC).hour) == (date(2026, 11, 30), 11)


OPENED = datetime(2026, 11, 2, 2, 15, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days_later", "due"),
    [(0, False), (1, False), (2, False), (3, True), (4, False), (9, False), (10, True), (17, True)],
)
def test_reminder_after_three_days_then_weekly(days_later: int, due: bool) -> None:
    end = WINDOW_END + days_later * DAY
    assert POLICY.reminder_due(OPENED, end - DAY, end) is due


def test_a_wide_window_gives_one_reminder_when_several_fell_in_it() -> None:
    end = WINDOW_END + 20 * DAY
    assert POLICY.reminder_due(OPENED, end - 7 * DAY, end) is True


def test_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        NotificationPolicy(reminder_every=timedelta(0))
