"""Reconciling findings with stored alerts, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from alerts.notify.outbox import Notifier
from alerts.reconcile import ReconcileOutcome, reconcile
from alerts.repository import (
    AlertFilter,
    AlertRecord,
    acknowledge,
    alert_history,
    get_alert,
    list_alerts,
    snooze,
)
from alerts.tables import alert, alert_event, outbox
from detectors.findings import Finding

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
DAY = timedelta(days=1)
DETECTORS = {"course_archived"}

MakeFinding = Callable[..., Finding]


def run(
    engine: Engine,
    notifier: Notifier,
    findings: Sequence[Finding],
    now: datetime,
    *,
    detectors: Collection[str] = DETECTORS,
    subjects: Collection[str] | None = None,
) -> ReconcileOutcome:
    with engine.begin() as conn:
        return reconcile(
            conn, findings, detectors=detectors, subjects=subjects, now=now, notifier=notifier
        )


def the_alert(engine: Engine, finding: Finding) -> AlertRecord:
    with engine.connect() as conn:
        alert_id = conn.execute(
            select(alert.c.id).where(alert.c.fingerprint == finding.fingerprint)
        ).scalar_one()
        record = get_alert(conn, alert_id)
    assert record is not None
    return record


def emails(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def rules(engine: Engine, record: AlertRecord) -> list[str]:
    with engine.connect() as conn:
        return [event.rule for event in alert_history(conn, record.id)]


def snapshot(engine: Engine) -> tuple[list[Any], int, int]:
    with engine.connect() as conn:
        return (
            list(conn.execute(select(alert).order_by(alert.c.id))),
            conn.execute(select(func.count()).select_from(alert_event)).scalar_one(),
            conn.execute(select(func.count()).select_from(outbox)).scalar_one(),
        )


def test_new_finding_opens_an_alert_and_queues_one_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    outcome = run(store_engine, notifier, [finding], NIGHT)

    assert outcome == ReconcileOutcome(opened=1, queued=1)
    record = the_alert(store_engine, finding)
    assert (record.status, record.episode, record.affected_count) == ("open", 1, 37)
    assert record.opened_at == record.first_seen == NIGHT
    assert record.evidence == finding.evidence
    assert rules(store_engine, record) == ["new-open"]
    [email] = emails(store_engine)
    assert email.recipients == ["scolarite.hss@example.org"]
    assert email.subject == "[Ecampus] Cours RCAED334 « Droit civil » : sera archivé cette nuit"
    assert email.dedup_key == f"{finding.fingerprint}:1:open"
    assert (email.status, email.attempts) == ("queued", 0)
    assert f"/alerts/{record.id}" in email.body_text


def test_same_findings_twice_change_nothing_and_queue_nothing(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    findings = [make_finding(), make_finding(subject="M.1HRP9C", cod_elp="M.1HRP9C")]
    run(store_engine, notifier, findings, NIGHT)
    before = snapshot(store_engine)

    assert run(store_engine, notifier, findings, NIGHT) == ReconcileOutcome()
    assert snapshot(store_engine) == before
    assert before[2] == 2


def test_seen_again_later_moves_last_seen_only(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT)
    assert run(store_engine, notifier, [finding], NIGHT + DAY) == ReconcileOutcome()
    record = the_alert(store_engine, finding)
    assert (record.last_seen, record.updated_at) == (NIGHT + DAY, NIGHT)


def test_new_facts_update_the_alert_without_a_new_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    run(store_engine, notifier, [make_finding()], NIGHT)
    grown = make_finding(affected_count=52, summary="Nouveau résumé")
    assert run(store_engine, notifier, [grown], NIGHT + DAY) == ReconcileOutcome(updated=1)
    record = the_alert(store_engine, grown)
    assert (record.status, record.affected_count, record.summary) == ("open", 52, "Nouveau résumé")
    assert len(emails(store_engine)) == 1


def test_finding_gone_resolves_without_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT)
    assert run(store_engine, notifier, [], NIGHT + DAY) == ReconcileOutcome(resolved=1)
    record = the_alert(store_engine, finding)
    assert (record.status, record.resolved_at) == ("resolved", NIGHT + DAY)
    assert rules(store_engine, record) == ["new-open", "condition-gone"]
    assert len(emails(store_engine)) == 1
    assert run(store_engine, notifier, [], NIGHT + 2 * DAY) == ReconcileOutcome()


def test_finding_back_reopens_with_a_new_episode_and_a_new_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT)
    run(store_engine, notifier, [], NIGHT + DAY)
    outcome = run(store_engine, notifier, [finding], NIGHT + 2 * DAY)

    assert outcome == ReconcileOutcome(reopened=1, queued=1)
    record = the_alert(store_engine, finding)
    assert (record.status, record.episode, record.resolved_at) == ("open", 2, None)
    assert (record.first_seen, record.opened_at) == (NIGHT, NIGHT + 2 * DAY)
    assert rules(store_engine, record) == ["new-open", "condition-gone", "reopened"]
    first, second = emails(store_engine)
    assert first.dedup_key == f"{finding.fingerprint}:1:open"
    assert second.dedup_key == f"{finding.fingerprint}:2:open"
    assert second.subject.startswith("[Ecampus] De nouveau : Cours RCAED334")
    assert run(store_engine, notifier, [finding], NIGHT + 2 * DAY) == ReconcileOutcome()


def test_pending_finding_never_queues_an_email(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    pending = make_finding(pending_until_next_run=True)
    assert run(store_engine, notifier, [pending], NIGHT) == ReconcileOutcome(pending=1)
    assert run(store_engine, notifier, [pending], NIGHT + DAY) == ReconcileOutcome()
    assert the_alert(store_engine, pending).status == "pending"
    assert emails(store_engine) == []
    # Tonight's run settled it: resolved, still without a word to anyone.
    assert run(store_engine, notifier, [], NIGHT + 2 * DAY) == ReconcileOutcome(resolved=1)
    assert rules(store_engine, the_alert(store_engine, pending)) == [
        "new-pending",
        "pending-settled",
    ]
    assert emails(store_engine) == []


def test_pending_finding_that_survives_the_night_becomes_a_fault_and_is_emailed(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    run(store_engine, notifier, [make_finding(pending_until_next_run=True)], NIGHT)
    outcome = run(store_engine, notifier, [make_finding()], NIGHT + DAY)
    assert outcome == ReconcileOutcome(opened=1, queued=1)
    record = the_alert(store_engine, make_finding())
    assert (record.status, record.opened_at, record.first_seen) == ("open", NIGHT + DAY, NIGHT)
    [email] = emails(store_engine)
    assert "n'a pas été corrigée" in email.body_text


def test_acknowledged_alert_is_silent_until_it_worsens(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT)
    with store_engine.begin() as conn:
        acknowledge(conn, the_alert(store_engine, finding).id, actor="op", comment=None, now=NIGHT)

    assert run(store_engine, notifier, [finding], NIGHT + DAY) == ReconcileOutcome()
    assert the_alert(store_engine, finding).status == "acknowledged"

    worse = make_finding(affected_count=60)
    assert run(store_engine, notifier, [worse], NIGHT + DAY) == ReconcileOutcome(
        updated=1, queued=1
    )
    record = the_alert(store_engine, worse)
    assert (record.status, record.acknowledged_by) == ("open", None)
    assert emails(store_engine)[-1].dedup_key.endswith(":1:open:worsened-60-warning")
    assert emails(store_engine)[-1].subject.startswith("[Ecampus] Aggravation : ")
    assert run(store_engine, notifier, [worse], NIGHT + DAY) == ReconcileOutcome()
    assert len(emails(store_engine)) == 2


def test_snoozed_alert_comes_back_when_the_snooze_is_over(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    finding = make_finding()
    run(store_engine, notifier, [finding], NIGHT)
    with store_engine.begin() as conn:
        snooze(
            conn,
            the_alert(store_engine, finding).id,
            actor="op",
            until=NIGHT + 3 * DAY,
            comment="attente APOGÉE",
            now=NIGHT,
        )
    assert run(store_engine, notifier, [finding], NIGHT + DAY) == ReconcileOutcome()
    assert run(store_engine, notifier, [finding], NIGHT + 3 * DAY) == ReconcileOutcome(
        updated=1, queued=1
    )
    assert the_alert(store_engine, finding).status == "open"
    assert emails(store_engine)[-1].subject.startswith("[Ecampus] Rappel : ")


def test_only_alerts_of_the_looked_at_detectors_and_subjects_resolve(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    archived = make_finding()
    other_elp = make_finding(subject="M.1HRP9C", cod_elp="M.1HRP9C")
    other_detector = make_finding(detector="group_missing", cause="foad_case_c")
    run(store_engine, notifier, [archived, other_elp], NIGHT)
    run(store_engine, notifier, [other_detector], NIGHT, detectors={"group_missing"})

    # The pass looked at RCAED334 only, for course_archived only.
    outcome = run(store_engine, notifier, [], NIGHT + DAY, subjects={"RCAED334"})
    assert outcome == ReconcileOutcome(resolved=1)
    assert the_alert(store_engine, archived).status == "resolved"
    assert the_alert(store_engine, other_elp).status == "open"
    assert the_alert(store_engine, other_detector).status == "open"


def test_many_findings_in_one_pass(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    findings = [make_finding(subject=f"ELP{n:05d}", cod_elp=f"ELP{n:05d}") for n in range(1200)]
    assert run(store_engine, notifier, findings, NIGHT) == ReconcileOutcome(
        opened=1200, queued=1200
    )
    assert run(store_engine, notifier, findings[:700], NIGHT + DAY) == ReconcileOutcome(
        resolved=500
    )
    with store_engine.connect() as conn:
        assert len(list_alerts(conn, AlertFilter(status="open", limit=1000))) == 700
