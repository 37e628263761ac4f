"""Operators' actions beyond acknowledging: comment, "expected until", snooze with a reason.

Every action is in the audit trail: who, when, why, and the date it set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from alerts.lifecycle import TransitionRefused
from alerts.notify.outbox import Notifier
from alerts.reconcile import ReconcileOutcome, reconcile
from alerts.repository import (
    AlertNotFound,
    acknowledge,
    alert_history,
    comment,
    get_alert,
    resolve_by_hand,
    snooze,
)
from detectors.findings import Finding

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
MORNING = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
DAY = timedelta(days=1)
JUNE = datetime(2027, 6, 30, 22, 0, tzinfo=UTC)

MakeFinding = Callable[..., Finding]


def run(
    engine: Engine, notifier: Notifier, findings: list[Finding], now: datetime
) -> ReconcileOutcome:
    with engine.begin() as conn:
        return reconcile(
            conn, findings, detectors={"course_archived"}, subjects=None, now=now, notifier=notifier
        )


@pytest.fixture
def alert_id(store_engine: Engine, notifier: Notifier, make_finding: MakeFinding) -> int:
    run(store_engine, notifier, [make_finding()], NIGHT)
    with store_engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT id FROM alert").scalar_one())


def test_comment_is_history_only(store_engine: Engine, alert_id: int) -> None:
    with store_engine.begin() as conn:
        record = comment(
            conn, alert_id, actor="marie.cemu", text="scolarité appelée, elle corrige", now=MORNING
        )
        history = alert_history(conn, alert_id)
    assert record.status == "open"
    assert record.updated_at == MORNING
    last = history[-1]
    assert (last.actor, last.action, last.rule, last.comment, last.at) == (
        "marie.cemu",
        "comment",
        "commented",
        "scolarité appelée, elle corrige",
        MORNING,
    )
    assert (last.from_status, last.to_status) == ("open", "open")


def test_comment_on_a_resolved_alert_is_allowed(store_engine: Engine, alert_id: int) -> None:
    with store_engine.begin() as conn:
        resolve_by_hand(conn, alert_id, actor="op", comment="corrigé", now=MORNING)
        record = comment(conn, alert_id, actor="op", text="confirmé par la scolarité", now=MORNING)
    assert record.status == "resolved"


@pytest.mark.parametrize(
    ("actor", "text", "error", "message"),
    [
        ("op", "  ", ValueError, "needs text"),
        (" ", "texte", ValueError, "operator"),
    ],
)
def test_comment_needs_an_operator_and_text(
    store_engine: Engine, alert_id: int, actor: str, text: str, error: type, message: str
) -> None:
    with store_engine.begin() as conn, pytest.raises(error, match=message):
        comment(conn, alert_id, actor=actor, text=text, now=MORNING)


def test_comment_on_a_missing_alert(store_engine: Engine) -> None:
    with store_engine.begin() as conn, pytest.raises(AlertNotFound):
        comment(conn, 999, actor="op", text="?", now=MORNING)


def test_acknowledge_with_expected_until_records_the_date(
    store_engine: Engine, alert_id: int
) -> None:
    with store_engine.begin() as conn:
        record = acknowledge(
            conn,
            alert_id,
            actor="marie.cemu",
            comment="cours fermé exprès jusqu'en juin",
            now=MORNING,
            expected_until=JUNE,
        )
        last = alert_history(conn, alert_id)[-1]
    assert (record.status, record.expected_until, record.acknowledged_by) == (
        "acknowledged",
        JUNE,
        "marie.cemu",
    )
    assert (last.rule, last.until, last.comment) == (
        "acknowledged",
        JUNE,
        "cours fermé exprès jusqu'en juin",
    )


def test_expected_until_can_be_moved_but_not_into_the_past(
    store_engine: Engine, alert_id: int
) -> None:
    with store_engine.begin() as conn:
        acknowledge(conn, alert_id, actor="op", comment=None, now=MORNING)
        with pytest.raises(TransitionRefused, match="already acknowledged"):
            acknowledge(conn, alert_id, actor="op", comment=None, now=MORNING)
        moved = acknowledge(
            conn, alert_id, actor="op2", comment="jusqu'en juin", now=MORNING, expected_until=JUNE
        )
        with pytest.raises(ValueError, match="is not after now"):
            acknowledge(
                conn, alert_id, actor="op", comment=None, now=MORNING, expected_until=MORNING
            )
        rules = [event.rule for event in alert_history(conn, alert_id)]
    assert (moved.expected_until, moved.acknowledged_by) == (JUNE, "op2")
    assert rules == ["new-open", "acknowledged", "expectation-set"]


def test_snooze_records_its_reason_and_end(store_engine: Engine, alert_id: int) -> None:
    until = MORNING + 3 * DAY
    with store_engine.begin() as conn:
        snooze(conn, alert_id, actor="op", until=until, comment="attente APOGÉE", now=MORNING)
        last = alert_history(conn, alert_id)[-1]
    assert (last.action, last.rule, last.comment, last.until) == (
        "snooze",
        "snoozed",
        "attente APOGÉE",
        until,
    )


def test_snooze_and_resolve_by_hand_end_an_expectation(store_engine: Engine, alert_id: int) -> None:
    with store_engine.begin() as conn:
        acknowledge(conn, alert_id, actor="op", comment=None, now=MORNING, expected_until=JUNE)
        snoozed = snooze(
            conn, alert_id, actor="op", until=MORNING + DAY, comment="attente", now=MORNING
        )
        assert snoozed.expected_until is None
        acknowledge(conn, alert_id, actor="op", comment=None, now=MORNING, expected_until=JUNE)
        resolved = resolve_by_hand(conn, alert_id, actor="op", comment="corrigé", now=MORNING)
        assert resolved.expected_until is None
        assert get_alert(conn, alert_id) == resolved
