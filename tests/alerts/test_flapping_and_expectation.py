"""Reconciliation with the notification policy: immediate or digest, flapping, "expected until"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from alerts.notify.outbox import Notifier
from alerts.reconcile import ReconcileOutcome, reconcile
from alerts.repository import AlertRecord, acknowledge, alert_history, get_alert
from alerts.tables import alert, outbox
from detectors.findings import Finding

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

MakeFinding = Callable[..., Finding]


def run(
    engine: Engine, notifier: Notifier, findings: list[Finding], now: datetime, detector: str
) -> ReconcileOutcome:
    with engine.begin() as conn:
        return reconcile(
            conn, findings, detectors={detector}, subjects=None, now=now, notifier=notifier
        )


def the_alert(engine: Engine) -> AlertRecord:
    with engine.connect() as conn:
        [alert_id] = conn.execute(select(alert.c.id)).scalars()
        record = get_alert(conn, alert_id)
    assert record is not None
    return record


def emails(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def rules(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [event.rule for event in alert_history(conn, the_alert(engine).id)]


def test_an_alert_that_can_wait_is_not_emailed_one_by_one(
    store_engine: Engine, notifier: Notifier, make_fault: MakeFinding
) -> None:
    outcome = run(store_engine, notifier, [make_fault()], NIGHT, "teacher_missing")
    assert outcome == ReconcileOutcome(opened=1, queued=0)
    assert emails(store_engine) == []
    # The notifying transition is in the audit trail: the digest will find it there.
    assert rules(store_engine) == ["new-open"]


def test_a_critical_alert_is_emailed_at_once(
    store_engine: Engine, notifier: Notifier, make_fault: MakeFinding
) -> None:
    outcome = run(
        store_engine, notifier, [make_fault(severity="critical")], NIGHT, "teacher_missing"
    )
    assert outcome == ReconcileOutcome(opened=1, queued=1)
    [email] = emails(store_engine)
    assert email.recipients == ["scolarite.hss@example.org"]


def test_a_course_archived_tonight_is_emailed_at_once(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    assert run(store_engine, notifier, [make_finding()], NIGHT, "course_archived").queued == 1


def test_flapping_reopens_the_same_alert_flagged_and_rate_limits_its_emails(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT, "course_archived")
    first = the_alert(store_engine)
    run(store_engine, notifier, [], NIGHT + HOUR, "course_archived")

    # Back 30 minutes after it was resolved, emailed 90 minutes ago: flagged, not re-emailed.
    back = NIGHT + 90 * timedelta(minutes=1)
    assert run(store_engine, notifier, [finding], back, "course_archived") == ReconcileOutcome(
        reopened=1
    )
    again = the_alert(store_engine)
    assert (again.id, again.episode, again.status) == (first.id, 2, "open")
    assert (again.flap_count, again.flapping) == (1, True)
    assert len(emails(store_engine)) == 1

    # Flapping on, but the last email is older than ``flap_email_every``: emailed.
    run(store_engine, notifier, [], NIGHT + 3 * HOUR, "course_archived")
    assert run(
        store_engine, notifier, [finding], NIGHT + 5 * HOUR, "course_archived"
    ) == ReconcileOutcome(reopened=1, queued=1)
    assert the_alert(store_engine).flap_count == 2
    last = emails(store_engine)[-1]
    assert last.subject.startswith("[Ecampus] De nouveau : ")
    assert "il apparaît et disparaît" in last.body_text

    # Back after the flap window: an ordinary reopening of the same row.
    run(store_engine, notifier, [], NIGHT + 6 * HOUR, "course_archived")
    run(store_engine, notifier, [finding], NIGHT + 6 * HOUR + DAY, "course_archived")
    final = the_alert(store_engine)
    assert (final.id, final.episode, final.flap_count) == (first.id, 4, 0)
    assert rules(store_engine) == [
        "new-open",
        "condition-gone",
        "reopened-flapping",
        "condition-gone",
        "reopened-flapping",
        "condition-gone",
        "reopened",
    ]
    assert len(emails(store_engine)) == 3


def test_expected_until_keeps_the_alert_quiet_until_then_even_worse_or_back(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    run(store_engine, notifier, [make_finding()], NIGHT, "course_archived")
    alert_id = the_alert(store_engine).id
    with store_engine.begin() as conn:
        acknowledge(
            conn,
            alert_id,
            actor="marie.cemu",
            comment="fermé exprès",
            now=NIGHT + HOUR,
            expected_until=NIGHT + 10 * DAY,
        )

    worse = make_finding(affected_count=80, severity="critical")
    assert run(store_engine, notifier, [worse], NIGHT + DAY, "course_archived") == (
        ReconcileOutcome(updated=1)
    )
    assert the_alert(store_engine).status == "acknowledged"
    run(store_engine, notifier, [], NIGHT + 2 * DAY, "course_archived")
    assert the_alert(store_engine).status == "resolved"
    run(store_engine, notifier, [worse], NIGHT + 3 * DAY, "course_archived")
    back = the_alert(store_engine)
    assert (back.status, back.episode, back.acknowledged_by) == ("acknowledged", 2, "marie.cemu")
    assert back.expected_until == NIGHT + 10 * DAY
    assert len(emails(store_engine)) == 1

    # The date is past and it is still there: open, nobody's, and emailed.
    outcome = run(store_engine, notifier, [worse], NIGHT + 11 * DAY, "course_archived")
    assert outcome == ReconcileOutcome(updated=1, queued=1)
    over = the_alert(store_engine)
    assert (over.status, over.acknowledged_by, over.expected_until) == ("open", None, None)
    last = emails(store_engine)[-1]
    assert last.subject.startswith("[Ecampus] Échéance dépassée : ")
    assert rules(store_engine) == [
        "new-open",
        "acknowledged",
        "condition-gone",
        "reopened-as-expected",
        "expectation-over",
    ]
    # Seen again: nothing new.
    assert run(store_engine, notifier, [worse], NIGHT + 12 * DAY, "course_archived") == (
        ReconcileOutcome()
    )
