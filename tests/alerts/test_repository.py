"""Reading alerts and operators' actions, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from alerts.lifecycle import TransitionRefused
from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.repository import (
    AlertFilter,
    AlertNotFound,
    acknowledge,
    alert_history,
    count_by_status,
    get_alert,
    list_alerts,
    relabel_causes,
    resolve_by_hand,
    snooze,
)
from alerts.repository import (
    AlertRecord as Alert,
)
from alerts.tables import alert
from detectors.findings import Finding

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
MORNING = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


@pytest.fixture
def alert_ids(
    store_engine: Engine, notifier: Notifier, make_finding: Callable[..., Finding]
) -> list[int]:
    """Three alerts: RCAED334 (open, warning), M.1HRP9C (open, critical), one pending."""
    findings = [
        make_finding(),
        make_finding(subject="M.1HRP9C", cod_elp="M.1HRP9C", severity="critical", cod_cmp="07"),
        make_finding(subject="RCAED335", cod_elp="RCAED335", pending_until_next_run=True),
    ]
    with store_engine.begin() as conn:
        reconcile(
            conn,
            findings,
            detectors={"course_archived"},
            subjects=None,
            now=NIGHT,
            notifier=notifier,
        )
        return [a.id for a in sorted(list_alerts(conn, AlertFilter()), key=lambda a: a.subject)]


def test_acknowledge_records_who_and_why(store_engine: Engine, alert_ids: list[int]) -> None:
    rcaed334 = alert_ids[1]
    with store_engine.begin() as conn:
        record = acknowledge(
            conn, rcaed334, actor="op.cemu", comment="vu avec la scolarité", now=MORNING
        )
    assert (record.status, record.acknowledged_by, record.acknowledged_at) == (
        "acknowledged",
        "op.cemu",
        MORNING,
    )
    assert record.updated_at.tzinfo is UTC
    with store_engine.connect() as conn:
        history = alert_history(conn, rcaed334)
    assert [(e.actor, e.action, e.from_status, e.to_status, e.rule) for e in history] == [
        ("ecampus-monitor", "seen", None, "open", "new-open"),
        ("op.cemu", "acknowledge", "open", "acknowledged", "acknowledged"),
    ]
    assert history[-1].comment == "vu avec la scolarité"
    assert history[-1].at == MORNING


def test_acknowledge_refuses_a_resolved_alert(store_engine: Engine, alert_ids: list[int]) -> None:
    rcaed334 = alert_ids[1]
    with store_engine.begin() as conn:
        resolve_by_hand(conn, rcaed334, actor="op", comment="corrigé", now=MORNING)
    with (
        store_engine.begin() as conn,
        pytest.raises(
            TransitionRefused, match=f"alert {rcaed334}: cannot acknowledge a resolved alert"
        ),
    ):
        acknowledge(conn, rcaed334, actor="op", comment=None, now=MORNING)
    with store_engine.connect() as conn:
        record = get_alert(conn, rcaed334)
        assert record is not None and record.status == "resolved"
        assert [e.rule for e in alert_history(conn, rcaed334)] == ["new-open", "resolved-by-hand"]


def test_acknowledge_refuses_a_pending_alert(store_engine: Engine, alert_ids: list[int]) -> None:
    with store_engine.begin() as conn, pytest.raises(TransitionRefused, match="pending"):
        acknowledge(conn, alert_ids[2], actor="op", comment=None, now=MORNING)


def test_acknowledge_unknown_alert(store_engine: Engine, alert_ids: list[int]) -> None:
    with store_engine.begin() as conn, pytest.raises(AlertNotFound, match="no alert 9999"):
        acknowledge(conn, 9999, actor="op", comment=None, now=MORNING)


def test_action_needs_an_operator_and_a_future_snooze(
    store_engine: Engine, alert_ids: list[int]
) -> None:
    with store_engine.begin() as conn:
        with pytest.raises(ValueError, match="operator"):
            acknowledge(conn, alert_ids[0], actor=" ", comment=None, now=MORNING)
        with pytest.raises(ValueError, match="is not after now"):
            snooze(conn, alert_ids[0], actor="op", until=MORNING, comment="x", now=MORNING)
        for no_reason in (None, "  "):
            with pytest.raises(ValueError, match="a snooze needs a reason"):
                snooze(
                    conn,
                    alert_ids[0],
                    actor="op",
                    until=MORNING + timedelta(days=2),
                    comment=no_reason,
                    now=MORNING,
                )
        record = snooze(
            conn,
            alert_ids[0],
            actor="op",
            until=MORNING + timedelta(days=2),
            comment="attente du retour de la scolarité",
            now=MORNING,
        )
    assert (record.status, record.snoozed_until) == ("snoozed", MORNING + timedelta(days=2))


def test_list_alerts_filters(store_engine: Engine, alert_ids: list[int]) -> None:
    with store_engine.connect() as conn:
        assert [a.subject for a in list_alerts(conn, AlertFilter(severity="critical"))] == [
            "M.1HRP9C"
        ]
        assert [a.subject for a in list_alerts(conn, AlertFilter(status="pending"))] == ["RCAED335"]
        assert [a.subject for a in list_alerts(conn, AlertFilter(cod_elp="RCAED334"))] == [
            "RCAED334"
        ]
        assert len(list_alerts(conn, AlertFilter(cod_cmp="12"))) == 2
        assert list_alerts(conn, AlertFilter(detector="teacher_missing")) == []
        assert len(list_alerts(conn, AlertFilter(limit=2))) == 2
        assert len(list_alerts(conn, AlertFilter(limit=2, offset=2))) == 1
    with pytest.raises(ValueError, match="limit"):
        AlertFilter(limit=0)


def test_count_by_status_feeds_the_gauge(store_engine: Engine, alert_ids: list[int]) -> None:
    with store_engine.connect() as conn:
        assert count_by_status(conn) == [
            ("open", "course_archived", "critical", 1),
            ("open", "course_archived", "warning", 1),
            ("pending", "course_archived", "warning", 1),
        ]


def test_records_come_out_in_utc(store_engine: Engine, alert_ids: list[int]) -> None:
    with store_engine.connect() as conn:
        record = get_alert(conn, alert_ids[1])
    assert record is not None
    assert record.first_seen == NIGHT and record.first_seen.tzinfo is UTC
    assert record.evidence[0].as_of == datetime(2026, 11, 29, 16, 40, tzinfo=UTC)


def test_a_cause_label_is_stored_kept_and_written_again_from_the_catalogue(
    store_engine: Engine, notifier: Notifier, make_finding: Callable[..., Finding]
) -> None:
    labelled = make_finding(cause="removed_from_offer")
    assert labelled.cause_label == "Élément supprimé de l'offre de formation"

    def seen(finding: Finding, at: datetime) -> Alert:
        with store_engine.begin() as conn:
            reconcile(
                conn,
                [finding],
                detectors={"course_archived"},
                subjects=None,
                now=at,
                notifier=notifier,
            )
            (alert,) = list_alerts(conn, AlertFilter())
            return alert

    assert seen(labelled, NIGHT).cause_label == labelled.cause_label
    # A finding without a label (never from the pipeline) keeps the stored one.
    assert seen(replace(labelled, cause_label=""), MORNING).cause_label == labelled.cause_label
    with store_engine.begin() as conn:
        conn.execute(update(alert).values(cause_label=None))  # a row from before 0008
        assert relabel_causes(conn, {"removed_from_offer": "Élément retiré"}) == 1
        assert relabel_causes(conn, {"removed_from_offer": "Élément retiré"}) == 0
        assert relabel_causes(conn, {"code_changed": "Code changé"}) == 0
        (stored,) = list_alerts(conn, AlertFilter())
    assert stored.cause_label == "Élément retiré"
