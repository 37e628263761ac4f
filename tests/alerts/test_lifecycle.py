"""The alert lifecycle, as a table: status before, event, status after, rule, email."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.lifecycle import (
    NOTIFYING_RULES,
    STATUSES,
    Acknowledge,
    Comment,
    Event,
    Gone,
    ResolveByHand,
    Seen,
    Snooze,
    Status,
    Transition,
    TransitionRefused,
    transition,
    worsened,
)
from detectors.findings import Severity

UNTIL = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
ACK = Acknowledge("operateur.cemu", "je m'en occupe")
SNOOZE = Snooze("operateur.cemu", UNTIL)
BY_HAND = ResolveByHand("operateur.cemu", "corrigé dans APOGÉE")
ACK_UNTIL = Acknowledge("operateur.cemu", "cours fermé exprès jusqu'en juin", expected_until=UNTIL)
COMMENT = Comment("operateur.cemu", "scolarité relancée par téléphone")
HOLDING = Seen(expectation="holding")

# (status before, event, status after, rule, email?, new episode?)
TABLE: list[tuple[Status | None, Event, Status, str, bool, bool]] = [
    (None, Seen(pending_until_next_run=True), "pending", "new-pending", False, False),
    (None, Seen(), "open", "new-open", True, False),
    ("pending", Seen(pending_until_next_run=True), "pending", "still-pending", False, False),
    ("pending", Seen(), "open", "pending-became-fault", True, False),
    ("pending", Gone(), "resolved", "pending-settled", False, False),
    ("pending", BY_HAND, "resolved", "resolved-by-hand", False, False),
    ("open", Seen(), "open", "still-open", False, False),
    ("open", Seen(worsened=True), "open", "open-worsened", False, False),
    ("open", Seen(pending_until_next_run=True), "open", "still-open", False, False),
    ("open", Gone(), "resolved", "condition-gone", False, False),
    ("open", ACK, "acknowledged", "acknowledged", False, False),
    ("open", SNOOZE, "snoozed", "snoozed", False, False),
    ("open", BY_HAND, "resolved", "resolved-by-hand", False, False),
    ("acknowledged", Seen(), "acknowledged", "still-acknowledged", False, False),
    ("acknowledged", Seen(worsened=True), "open", "acknowledged-worsened", True, False),
    ("acknowledged", Gone(), "resolved", "condition-gone", False, False),
    ("acknowledged", SNOOZE, "snoozed", "snoozed", False, False),
    ("acknowledged", BY_HAND, "resolved", "resolved-by-hand", False, False),
    ("snoozed", Seen(worsened=True), "snoozed", "still-snoozed", False, False),
    ("snoozed", Seen(snooze_over=True), "open", "snooze-expired", True, False),
    ("snoozed", Gone(), "resolved", "condition-gone", False, False),
    ("snoozed", ACK, "acknowledged", "acknowledged", False, False),
    ("snoozed", SNOOZE, "snoozed", "snooze-extended", False, False),
    ("resolved", Seen(), "open", "reopened", True, True),
    ("resolved", Seen(pending_until_next_run=True), "pending", "reopened-pending", False, True),
    # Flapping: back within the flap window; flagged, and the notifier rate-limits it.
    ("resolved", Seen(flapping=True), "open", "reopened-flapping", True, True),
    (
        "resolved",
        Seen(pending_until_next_run=True, flapping=True),
        "pending",
        "reopened-pending",
        False,
        True,
    ),
    # Acknowledged "expected until": quiet until the date, even worse, even back again.
    ("open", ACK_UNTIL, "acknowledged", "acknowledged", False, False),
    ("acknowledged", ACK_UNTIL, "acknowledged", "expectation-set", False, False),
    ("acknowledged", HOLDING, "acknowledged", "still-expected", False, False),
    (
        "acknowledged",
        Seen(worsened=True, expectation="holding"),
        "acknowledged",
        "still-expected",
        False,
        False,
    ),
    ("acknowledged", Seen(expectation="over"), "open", "expectation-over", True, False),
    ("resolved", HOLDING, "acknowledged", "reopened-as-expected", False, True),
    (
        "resolved",
        Seen(pending_until_next_run=True, flapping=True, expectation="holding"),
        "acknowledged",
        "reopened-as-expected",
        False,
        True,
    ),
    ("resolved", Seen(expectation="over"), "open", "reopened", True, True),
    # A comment is history only, in any status.
    ("pending", COMMENT, "pending", "commented", False, False),
    ("open", COMMENT, "open", "commented", False, False),
    ("acknowledged", COMMENT, "acknowledged", "commented", False, False),
    ("snoozed", COMMENT, "snoozed", "commented", False, False),
    ("resolved", COMMENT, "resolved", "commented", False, False),
]


@pytest.mark.parametrize(
    ("before", "event", "after", "rule", "notify", "new_episode"),
    TABLE,
    ids=[f"{row[0]}-{row[1]!r}" for row in TABLE],
)
def test_transition_names_its_rule(
    before: Status | None,
    event: Event,
    after: Status,
    rule: str,
    notify: bool,
    new_episode: bool,
) -> None:
    assert transition(before, event) == Transition(after, rule, notify, new_episode)


REFUSED: list[tuple[Status | None, Event, str]] = [
    ("resolved", ACK, "cannot acknowledge a resolved alert"),
    ("resolved", SNOOZE, "cannot snooze a resolved alert"),
    ("resolved", BY_HAND, "cannot resolve a resolved alert"),
    ("resolved", Gone(), "already resolved"),
    ("acknowledged", ACK, "already acknowledged"),
    ("pending", ACK, "settled by the next sync run"),
    ("pending", SNOOZE, "settled by the next sync run"),
    (None, ACK, "does not exist"),
    (None, Gone(), "does not exist"),
    (None, COMMENT, "does not exist"),
    ("pending", ACK_UNTIL, "settled by the next sync run"),
    ("resolved", ACK_UNTIL, "cannot acknowledge a resolved alert"),
]


@pytest.mark.parametrize(("before", "event", "message"), REFUSED)
def test_refused_transition_says_why(before: Status | None, event: Event, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message):
        transition(before, event)


def test_every_status_and_event_is_decided() -> None:
    """No combination falls through: each gives a transition or a refusal."""
    events: list[Event] = [
        Seen(),
        Seen(pending_until_next_run=True),
        Seen(flapping=True),
        HOLDING,
        Seen(expectation="over"),
        Gone(),
        ACK,
        ACK_UNTIL,
        SNOOZE,
        BY_HAND,
        COMMENT,
    ]
    for status in (None, *STATUSES):
        for event in events:
            try:
                outcome = transition(status, event)
            except TransitionRefused:
                continue
            assert outcome.status in STATUSES
            assert outcome.rule


def test_only_notifying_rules_email() -> None:
    notifying = {row[3] for row in TABLE if row[4]}
    silent = {row[3] for row in TABLE if not row[4]}
    assert notifying == NOTIFYING_RULES
    assert not silent & NOTIFYING_RULES


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ((37, "warning"), (37, "warning"), False),
        ((37, "warning"), (38, "warning"), True),
        ((37, "warning"), (12, "warning"), False),
        ((37, "warning"), (37, "critical"), True),
        ((37, "critical"), (40, "info"), True),
        ((37, "critical"), (37, "warning"), False),
    ],
)
def test_worsened_means_more_people_or_higher_severity(
    before: tuple[int, Severity], after: tuple[int, Severity], expected: bool
) -> None:
    assert worsened(before[0], before[1], after[0], after[1]) is expected
