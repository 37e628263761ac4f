"""Reconcile a detector pass's findings with the stored alerts, in one transaction.

A finding is matched to its alert by fingerprint and moved through the
lifecycle; an active alert of the same detectors (and subjects, when the pass
looked at some subjects only) whose finding is absent has its condition gone
and is resolved. Every change of status is written to ``alert_event`` and every
notifying transition queues its email in the outbox, in the caller's
transaction. Reconciling the same findings twice changes nothing: a self-loop
("still-open") is not an event, and the outbox refuses a notification twice.

Findings of several detectors about one course and root cause (students not
enrolled before the night, enrolments lost after it) are first folded into
one finding, so one problem is one alert thread and one email.

One fingerprint is one alert row for ever: a finding back after its alert was
resolved reopens that row as a new episode (``episode + 1``). Back within the
policy's flap window, the episode is flagged flapping (``flap_count``, the
rule ``reopened-flapping``); after the window it is an ordinary reopening and
``flap_count`` returns to 0.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from alerts.lifecycle import (
    ACTIVE_STATUSES,
    AUTOMATIC_ACTOR,
    Expectation,
    Gone,
    Seen,
    Status,
    Transition,
    transition,
    worsened,
)
from alerts.notify.outbox import Notifier
from alerts.repository import get_alert, record_event
from alerts.store_values import evidence_to_json, to_db_time
from alerts.tables import alert
from detectors.findings import Finding
from detectors.incidents import merge_incidents

logger = logging.getLogger(__name__)

# Keep IN lists well under SQLite's bound-parameter limit.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ReconcileOutcome:
    """What one reconciliation did; all zero when nothing changed."""

    opened: int = 0
    pending: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    queued: int = 0


@dataclass(slots=True)
class _Tally:
    opened: int = 0
    pending: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    queued: int = 0

    def frozen(self) -> ReconcileOutcome:
        return ReconcileOutcome(
            self.opened, self.pending, self.updated, self.reopened, self.resolved, self.queued
        )


def reconcile(
    conn: Connection,
    findings: Sequence[Finding],
    *,
    detectors: Collection[str],
    subjects: Collection[str] | None,
    now: datetime,
    notifier: Notifier,
) -> ReconcileOutcome:
    """Bring the alerts of ``detectors`` (on ``subjects``, or all) in line with ``findings``."""
    at = to_db_time(now)
    # One alert per course and root cause across detectors (detectors.incidents).
    by_fingerprint = _by_fingerprint(merge_incidents(findings))
    stored = {
        row["fingerprint"]: row
        for chunk in _chunks(list(by_fingerprint))
        for row in conn.execute(
            select(alert).where(alert.c.fingerprint.in_(chunk)).with_for_update()
        ).mappings()
    }
    tally = _Tally()
    for fingerprint, finding in by_fingerprint.items():
        _apply_finding(conn, finding, stored.get(fingerprint), at, now, notifier, tally)
    for row in _active_in_scope(conn, detectors, subjects):
        if row["fingerprint"] not in by_fingerprint:
            _apply_gone(conn, row, at, now, notifier, tally)
    return tally.frozen()


def _by_fingerprint(findings: Sequence[Finding]) -> dict[str, Finding]:
    result: dict[str, Finding] = {}
    for finding in findings:
        if finding.fingerprint in result:
            # A detector must group its findings; keep the last and say so.
            logger.warning(
                "detector %s returned subject %s cause %s twice; keeping the last",
                finding.detector,
                finding.subject,
                finding.cause,
            )
        result[finding.fingerprint] = finding
    return result


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _content(finding: Finding) -> dict[str, Any]:
    return {
        "detector": finding.detector,
        "subject": finding.subject,
        "cause": finding.cause,
        "severity": finding.severity,
        "audience": finding.audience,
        "phase": finding.phase,
        "cod_cmp": finding.cod_cmp,
        "cod_elp": finding.cod_elp,
        "course_id": finding.course_id,
        "title": finding.title,
        "summary": finding.summary,
        "remediation": finding.remediation,
        "affected_count": finding.affected_count,
        "evidence": evidence_to_json(finding.evidence),
        # A finding without a label (never from the pipeline) keeps the stored one.
        **({"cause_label": finding.cause_label} if finding.cause_label else {}),
    }


def _apply_finding(
    conn: Connection,
    finding: Finding,
    row: RowMapping | None,
    at: datetime,
    now: datetime,
    notifier: Notifier,
    tally: _Tally,
) -> None:
    content = _content(finding)
    if row is None:
        applied = transition(None, Seen(finding.pending_until_next_run))
        inserted = conn.execute(
            insert(alert).values(
                fingerprint=finding.fingerprint,
                status=applied.status,
                episode=1,
                first_seen=at,
                last_seen=at,
                opened_at=at if applied.status == "open" else None,
                updated_at=at,
                **content,
            )
        )
        primary_key = inserted.inserted_primary_key
        assert primary_key is not None  # a single-row INSERT
        alert_id = int(primary_key[0])
        _record(conn, alert_id, None, applied, "seen", now)
        tally.opened += applied.status == "open"
        tally.pending += applied.status == "pending"
        _notify(conn, alert_id, applied, now, notifier, tally)
        return
    status: Status = row["status"]
    snoozed_until = row["snoozed_until"]
    resolved_at = row["resolved_at"]
    applied = transition(
        status,
        Seen(
            finding.pending_until_next_run,
            worsened=worsened(
                row["affected_count"], row["severity"], finding.affected_count, finding.severity
            ),
            snooze_over=snoozed_until is not None and at >= snoozed_until,
            flapping=status == "resolved"
            and resolved_at is not None
            and at - resolved_at < notifier.policy.flap_window,
            expectation=_expectation(row["expected_until"], at),
        ),
    )
    values = {name: value for name, value in content.items() if row[name] != value}
    content_changed = bool(values)
    values |= _status_values(row, applied, at)
    if values:
        values["updated_at"] = at
    if at > row["last_seen"]:  # a late pass never moves it back
        values["last_seen"] = at
    if values:
        conn.execute(update(alert).where(alert.c.id == row["id"]).values(**values))
    if applied.status != status or applied.new_episode or applied.notify:
        _record(conn, row["id"], status, applied, "seen", now)
    if applied.new_episode:
        tally.reopened += 1
    elif applied.rule == "pending-became-fault":
        tally.opened += 1
    elif content_changed or applied.status != status:
        tally.updated += 1
    _notify(conn, row["id"], applied, now, notifier, tally)


def _expectation(expected_until: datetime | None, at: datetime) -> Expectation:
    if expected_until is None:
        return "none"
    return "holding" if at < expected_until else "over"


def _status_values(row: RowMapping, applied: Transition, at: datetime) -> dict[str, Any]:
    """Columns that follow the status: when the episode opened, who acknowledged it."""
    if applied.rule == "reopened-as-expected":
        # Still in the hands of whoever acknowledged it, until the expected date.
        return {
            "status": applied.status,
            "episode": row["episode"] + 1,
            "opened_at": at,
            "resolved_at": None,
            "snoozed_until": None,
            "flap_count": 0,
        }
    if applied.new_episode:
        flapping = applied.rule == "reopened-flapping"
        return {
            "status": applied.status,
            "episode": row["episode"] + 1,
            "opened_at": at if applied.status == "open" else None,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "resolved_at": None,
            "snoozed_until": None,
            "expected_until": None,
            "flap_count": row["flap_count"] + 1 if flapping else 0,
        }
    if applied.status == row["status"]:
        return {}
    values: dict[str, Any] = {"status": applied.status}
    if row["status"] == "pending":
        values["opened_at"] = at
    if row["status"] == "acknowledged":
        # The acknowledgement covered a smaller problem, or its expected date is past:
        # the alert is nobody's again.
        values |= {"acknowledged_at": None, "acknowledged_by": None, "expected_until": None}
    return values


def _apply_gone(
    conn: Connection,
    row: RowMapping,
    at: datetime,
    now: datetime,
    notifier: Notifier,
    tally: _Tally,
) -> None:
    applied = transition(row["status"], Gone())
    conn.execute(
        update(alert)
        .where(alert.c.id == row["id"])
        .values(status=applied.status, resolved_at=at, updated_at=at)
    )
    _record(conn, row["id"], row["status"], applied, "gone", now)
    tally.resolved += 1
    _notify(conn, row["id"], applied, now, notifier, tally)


def _active_in_scope(
    conn: Connection, detectors: Collection[str], subjects: Collection[str] | None
) -> Iterable[RowMapping]:
    if not detectors:
        return []
    query = (
        select(alert)
        .where(alert.c.detector.in_(sorted(detectors)))
        .where(alert.c.status.in_(ACTIVE_STATUSES))
        .with_for_update()
    )
    if subjects is None:
        return list(conn.execute(query).mappings())
    return [
        row
        for chunk in _chunks(sorted(subjects))
        for row in conn.execute(query.where(alert.c.subject.in_(chunk))).mappings()
    ]


def _record(
    conn: Connection,
    alert_id: int,
    from_status: Status | None,
    applied: Transition,
    action: str,
    now: datetime,
) -> None:
    record_event(
        conn,
        alert_id,
        at=now,
        actor=AUTOMATIC_ACTOR,
        action=action,
        from_status=from_status,
        to_status=applied.status,
        rule=applied.rule,
    )


def _notify(
    conn: Connection,
    alert_id: int,
    applied: Transition,
    now: datetime,
    notifier: Notifier,
    tally: _Tally,
) -> None:
    if not applied.notify:
        return
    record = get_alert(conn, alert_id)
    assert record is not None  # written above in this transaction
    tally.queued += notifier.enqueue(conn, record, applied.rule, now)
