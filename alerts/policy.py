"""When to tell whom: the notification policy, pure (times passed in).

Two channels. An alert the policy calls *immediate* is emailed at once, one
email per notifying transition (as before). Every other notifying transition
waits for the recipient's daily digest, sent at ``digest_time`` local time,
after the night's sync run. Reminders of alerts open too long go in the digest.

Why course_archived predictions are immediate by default: the archive happens
during tonight's run; tomorrow morning's digest would announce a course
already gone, so the scolarité must know today (``ImmediatePrediction``).

Example::

    policy = NotificationPolicy(digest_time=time(7, 30), reminder_after=timedelta(days=3))
    policy.is_immediate(alert)            # critical, or a prediction worth an email now
    policy.digest_slot(now)               # (day, moment) of the latest digest due at ``now``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from detectors.findings import Phase, Severity


class Notifiable(Protocol):
    """What the policy looks at in an alert."""

    @property
    def detector(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def phase(self) -> Phase: ...

    @property
    def affected_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ImmediatePrediction:
    """A predicted alert of ``detector`` affecting at least ``min_affected`` people is urgent."""

    detector: str
    min_affected: int = 1


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    """How and when notifications go out; the defaults are the CEMU's choices."""

    digest_time: time = time(7, 30)
    timezone: str = "Europe/Paris"
    immediate_severities: frozenset[Severity] = frozenset({"critical"})
    immediate_predictions: tuple[ImmediatePrediction, ...] = (
        ImmediatePrediction("course_archived", 1),
    )
    # First reminder once an alert has been open this long, then one every ``reminder_every``.
    reminder_after: timedelta = timedelta(days=3)
    reminder_every: timedelta = timedelta(days=7)
    # A resolved alert back within this window is flapping: the same row reopens (as always),
    # flagged. A day: a reopening at the next night's pass is ordinary news.
    flap_window: timedelta = timedelta(days=1)
    # A flapping immediate alert is emailed at most once per this interval; a reopening
    # not emailed is news in the next digest, never lost. Short, because an alert worth an
    # email at once (a course archived tonight) must not wait for tomorrow's digest.
    flap_email_every: timedelta = timedelta(hours=2)
    # A digest this late (the daemon was down at digest time) is not sent: the next one
    # covers its window, so nothing is lost and nobody gets a digest in the night.
    digest_max_delay: timedelta = timedelta(hours=10)
    # Still-open alerts listed in one digest (news and reminders are never cut).
    digest_max_still_open: int = 100
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.reminder_after <= timedelta(0) or self.reminder_every <= timedelta(0):
            raise ValueError("reminder_after and reminder_every must be positive")
        if self.flap_window < timedelta(0) or self.flap_email_every < timedelta(0):
            raise ValueError("flap_window and flap_email_every must not be negative")
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def is_immediate(self, alert: Notifiable) -> bool:
        """Whether ``alert`` is emailed at once rather than in the next digest."""
        if alert.severity in self.immediate_severities:
            return True
        return alert.phase == "predicted" and any(
            rule.detector == alert.detector and alert.affected_count >= rule.min_affected
            for rule in self.immediate_predictions
        )

    def slot_of(self, day: date) -> datetime:
        """The moment the digest of ``day`` is due (aware, local time)."""
        return datetime.combine(day, self.digest_time, tzinfo=self._zone)

    def digest_slot(self, now: datetime) -> tuple[date, datetime]:
        """The day and moment of the latest digest due at or before ``now``."""
        today = now.astimezone(self._zone).date()
        slot = self.slot_of(today)
        if slot > now:
            today -= timedelta(days=1)
            slot = self.slot_of(today)
        return today, slot

    def reminder_due(self, opened_at: datetime, start: datetime, end: datetime) -> bool:
        """Whether a reminder of an alert open since ``opened_at`` falls in ``(start, end]``.

        Reminders fall at ``opened_at + reminder_after + k * reminder_every``, k = 0, 1, …

        >>> from datetime import UTC
        >>> p = NotificationPolicy(reminder_after=timedelta(days=3), reminder_every=timedelta(days=7))
        >>> opened = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
        >>> p.reminder_due(opened, opened + timedelta(days=2), opened + timedelta(days=3))
        True
        >>> p.reminder_due(opened, opened + timedelta(days=3), opened + timedelta(days=4))
        False
        >>> p.reminder_due(opened, opened + timedelta(days=9), opened + timedelta(days=10))
        True
        """
        first = opened_at + self.reminder_after
        if first > end:
            return False
        if first > start:
            return True
        # The last reminder at or before ``end``: is it after ``start``?
        steps = (end - first) // self.reminder_every
        return first + steps * self.reminder_every > start
