"""Operators' actions on an alert, shared by the JSON API and the page.

Each action is a small frozen value; ``perform`` checks what only the edge can
check (a date in the past) and hands it to ``alerts.repository`` in the
caller's transaction. The caller turns the exceptions into its own answers:
``AlertNotFound`` (404), ``TransitionRefused`` (409), ``InvalidAction`` (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Connection

from alerts import repository
from alerts.lifecycle import (
    Acknowledge,
    ResolveByHand,
    Snooze,
    Status,
    TransitionRefused,
    transition,
)


class InvalidAction(ValueError):
    """The action is well formed but cannot be right (a date already past); do not retry it.

    ``code`` names the problem so the page can say it in French.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class AcknowledgeAction:
    """Take the alert in hand; ``expected_until`` keeps matching findings quiet until then."""

    name: ClassVar[str] = "acknowledge"
    done: ClassVar[str] = "acknowledged"
    comment: str | None = None
    expected_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommentAction:
    """Add a note to the audit trail without changing the alert's state."""

    name: ClassVar[str] = "comment"
    done: ClassVar[str] = "commented"
    text: str


@dataclass(frozen=True, slots=True)
class SnoozeAction:
    """Silence the alert until ``until``, saying why."""

    name: ClassVar[str] = "snooze"
    done: ClassVar[str] = "snoozed"
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class ResolveAction:
    """Declare the problem fixed; seen again by its detector, the alert reopens."""

    name: ClassVar[str] = "resolve"
    done: ClassVar[str] = "resolved"
    comment: str | None = None


OperatorAction = AcknowledgeAction | CommentAction | SnoozeAction | ResolveAction
ACTION_NAMES = ("acknowledge", "comment", "snooze", "resolve")


def perform(
    conn: Connection, alert_id: int, action: OperatorAction, *, actor: str, now: datetime
) -> repository.AlertRecord:
    """Apply ``action`` in the name of ``actor``; the alert as it is afterwards."""
    if isinstance(action, AcknowledgeAction):
        if action.expected_until is not None and action.expected_until <= now:
            raise InvalidAction("the expected-until date is already past", "expected_until_past")
        record = repository.acknowledge(
            conn,
            alert_id,
            actor=actor,
            comment=action.comment,
            expected_until=action.expected_until,
            now=now,
        )
    elif isinstance(action, CommentAction):
        if not action.text.strip():
            raise InvalidAction("the comment is empty", "empty_comment")
        record = repository.comment(conn, alert_id, actor=actor, text=action.text, now=now)
    elif isinstance(action, SnoozeAction):
        if action.until <= now:
            raise InvalidAction("the snooze end is already past", "snooze_past")
        if not action.reason.strip():
            raise InvalidAction("a snooze needs a reason", "no_reason")
        record = repository.snooze(
            conn, alert_id, actor=actor, until=action.until, comment=action.reason, now=now
        )
    else:
        record = repository.resolve_by_hand(
            conn, alert_id, actor=actor, comment=action.comment, now=now
        )
    return record


def possible_actions(status: Status, now: datetime) -> frozenset[str]:
    """The actions the lifecycle accepts in ``status``: the page offers only those."""
    possible = {"comment"}
    for name, event in (
        # With a date, so an acknowledged alert may still have its date moved.
        ("acknowledge", Acknowledge("operator", None, now)),
        ("snooze", Snooze("operator", now)),
        ("resolve", ResolveByHand("operator")),
    ):
        try:
            transition(status, event)
        except TransitionRefused:
            continue
        possible.add(name)
    return frozenset(possible)
