"""The alert lifecycle: a pure state machine that names the rule it applies.

``transition(current, event)`` takes the alert's status (``None`` for an alert
not stored yet) and what happened, and returns the next status, the rule that
decided it, whether someone must be emailed and whether a new episode starts.
It never reads a clock nor a database: the caller computes the facts
(``worsened``, ``snooze_over``) and records the result.

Choices (kept low-volume on purpose, one email per thing a person must do):

- a finding still pending the next run (R9) is stored as ``pending`` and never
  emailed; it is emailed when it becomes a fault (``pending-became-fault``);
- an ``acknowledged`` alert seen again stays silent unless it worsened (more
  people affected or a higher severity): then it goes back to ``open`` and is
  emailed once (``acknowledged-worsened``): the acknowledgement covered a
  smaller problem. Growth of an alert already ``open`` is not emailed again:
  the open email already asks for action and the page shows the live count;
- a ``snoozed`` alert is silent until its snooze is over, then seen again it
  goes back to ``open`` and is emailed (``snooze-expired``);
- when the condition is gone the alert is ``resolved`` without an email
  (``condition-gone``): the page and the digests show it;
- a ``resolved`` alert seen again starts a new episode of the same alert (one
  fingerprint, one row, ever): ``reopened``, emailed unless the new episode is
  itself pending. Back within the policy's flap window it is ``reopened-flapping``
  (flagged; the notifier rate-limits it);
- an acknowledgement may carry an "expected until" date ("course closed on
  purpose until June"): until then the alert stays quiet even if it worsens, and
  even if it goes and comes back (``still-expected``, ``reopened-as-expected``);
  seen after that date it is open again and notified (``expectation-over``);
- a comment changes nothing but the audit trail (``commented``).

"Notify" means "someone must hear of it": the notifier decides whether by an
email at once or in the next daily digest (``alerts.policy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from detectors.findings import SEVERITY_ORDER, Severity

Status = Literal["pending", "open", "acknowledged", "snoozed", "resolved"]
STATUSES: tuple[Status, ...] = ("pending", "open", "acknowledged", "snoozed", "resolved")
ACTIVE_STATUSES: tuple[Status, ...] = ("pending", "open", "acknowledged", "snoozed")
# Where an "expected until" date stands, as the caller sees it at the moment of the event.
Expectation = Literal["none", "holding", "over"]

AUTOMATIC_ACTOR = "ecampus-monitor"
# The rules whose transition emails someone; each has its own wording in the email.
NOTIFYING_RULES = frozenset(
    {
        "new-open",
        "pending-became-fault",
        "acknowledged-worsened",
        "snooze-expired",
        "reopened",
        "reopened-flapping",
        "expectation-over",
    }
)


class TransitionRefused(Exception):
    """The event makes no sense for the alert's status; the caller must not retry it."""


@dataclass(frozen=True, slots=True)
class Seen:
    """The detector found the condition again (or for the first time)."""

    action: ClassVar[str] = "seen"
    pending_until_next_run: bool = False
    worsened: bool = False
    snooze_over: bool = False
    # Resolved less than the flap window ago.
    flapping: bool = False
    expectation: Expectation = "none"


@dataclass(frozen=True, slots=True)
class Gone:
    """The detector looked at the subject and the condition no longer holds."""

    action: ClassVar[str] = "gone"


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """An operator takes the alert in hand."""

    action: ClassVar[str] = "acknowledge"
    actor: str
    comment: str | None = None
    # Quiet until then, even if it worsens; acknowledging again with a date moves it.
    expected_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResolveByHand:
    """An operator states the problem is fixed; seen again, it reopens."""

    action: ClassVar[str] = "resolve"
    actor: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Snooze:
    """An operator silences the alert until a date."""

    action: ClassVar[str] = "snooze"
    actor: str
    until: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    """An operator writes in the audit trail; the status does not change."""

    action: ClassVar[str] = "comment"
    actor: str
    text: str


Event = Seen | Gone | Acknowledge | ResolveByHand | Snooze | Comment


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of one event: next status, the rule applied, and its side effects."""

    status: Status
    rule: str
    notify: bool = False
    new_episode: bool = False


def worsened(
    previous_count: int,
    previous_severity: Severity,
    count: int,
    severity: Severity,
) -> bool:
    """Whether a finding seen again is worse than the stored alert."""
    return count > previous_count or SEVERITY_ORDER[severity] > SEVERITY_ORDER[previous_severity]


def transition(current: Status | None, event: Event) -> Transition:
    """The next state of an alert in ``current`` status after ``event``.

    >>> transition(None, Seen(pending_until_next_run=True))
    Transition(status='pending', rule='new-pending', notify=False, new_episode=False)
    """
    if isinstance(event, Seen):
        return _seen(current, event)
    if current is None:
        raise TransitionRefused(f"no alert to {event.action}: it does not exist")
    if isinstance(event, Gone):
        return _gone(current)
    if isinstance(event, Comment):
        return Transition(current, "commented")
    return _by_hand(current, event)


def _seen(current: Status | None, event: Seen) -> Transition:
    pending = event.pending_until_next_run
    if current is None:
        if pending:
            return Transition("pending", "new-pending")
        return Transition("open", "new-open", notify=True)
    if current == "pending":
        if pending:
            return Transition("pending", "still-pending")
        return Transition("open", "pending-became-fault", notify=True)
    if current == "open":
        # A fault already emailed stays open even if a fix is now pending tonight's run.
        return Transition("open", "open-worsened" if event.worsened else "still-open")
    if current == "acknowledged":
        if event.expectation == "holding":
            return Transition("acknowledged", "still-expected")
        if event.expectation == "over":
            return Transition("open", "expectation-over", notify=True)
        if event.worsened:
            return Transition("open", "acknowledged-worsened", notify=True)
        return Transition("acknowledged", "still-acknowledged")
    if current == "snoozed":
        if event.snooze_over:
            return Transition("open", "snooze-expired", notify=True)
        return Transition("snoozed", "still-snoozed")
    if event.expectation == "holding":
        # The operator said it would be so until then: back, but already in hand.
        return Transition("acknowledged", "reopened-as-expected", new_episode=True)
    if pending:
        return Transition("pending", "reopened-pending", new_episode=True)
    if event.flapping:
        return Transition("open", "reopened-flapping", notify=True, new_episode=True)
    return Transition("open", "reopened", notify=True, new_episode=True)


def _gone(current: Status) -> Transition:
    if current == "resolved":
        raise TransitionRefused("the alert is already resolved")
    if current == "pending":
        return Transition("resolved", "pending-settled")
    return Transition("resolved", "condition-gone")


def _by_hand(current: Status, event: Acknowledge | ResolveByHand | Snooze) -> Transition:
    if current == "resolved":
        raise TransitionRefused(f"cannot {event.action} a resolved alert")
    if isinstance(event, ResolveByHand):
        return Transition("resolved", "resolved-by-hand")
    if current == "pending":
        # Nobody was told yet: acknowledging or snoozing would silence the
        # scolarité's first email when the difference becomes a fault (R9).
        raise TransitionRefused(
            f"cannot {event.action} a pending alert: it may be settled by the next sync run"
        )
    if isinstance(event, Acknowledge):
        if current == "acknowledged":
            if event.expected_until is not None:
                return Transition("acknowledged", "expectation-set")
            raise TransitionRefused("the alert is already acknowledged")
        return Transition("acknowledged", "acknowledged")
    return Transition("snoozed", "snoozed" if current != "snoozed" else "snooze-extended")
