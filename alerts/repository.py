"""Stored alerts and their audit trail: read them, and apply operators' actions.

Operators' actions: ``acknowledge`` (optionally "expected until" a date),
``snooze`` (until a date, with a reason), ``resolve_by_hand`` and ``comment``;
each raises ``AlertNotFound`` or ``TransitionRefused`` (the caller must not
retry) and ``ValueError`` for a bad argument. ``outbox_status`` shows what the
mail sender is doing and why it fails.

Datetimes are stored naive in UTC on every backend and come out timezone-aware
(UTC). Every change of an alert is written with an ``alert_event`` row in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, DateTime, RowMapping, func, insert, or_, select, update

from alerts.lifecycle import (
    Acknowledge,
    Comment,
    ResolveByHand,
    Snooze,
    Status,
    TransitionRefused,
    transition,
)
from alerts.store_values import evidence_from_json, from_db_time, to_db_time
from alerts.tables import alert, alert_event, outbox
from detectors.findings import Audience, Evidence, Phase, Severity


class AlertNotFound(LookupError):
    """No alert has this id."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert, as the API, the router and the templates see it."""

    id: int
    fingerprint: str
    detector: str
    subject: str
    cause: str
    status: Status
    severity: Severity
    audience: Audience
    phase: Phase
    cod_cmp: str | None
    cod_elp: str | None
    course_id: int | None
    title: str
    summary: str
    remediation: str
    affected_count: int
    evidence: tuple[Evidence, ...]
    episode: int
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    updated_at: datetime
    expected_until: datetime | None = None
    flap_count: int = 0
    # The cause's French label (``alerts.notify.causes.cause_label`` shows it); None: unknown.
    cause_label: str | None = None

    @property
    def flapping(self) -> bool:
        """Whether this episode began less than the flap window after the previous one ended."""
        return self.flap_count > 0


@dataclass(frozen=True, slots=True)
class AlertEventRecord:
    """One line of an alert's audit trail."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status
    rule: str
    comment: str | None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to list; ``None`` means any."""

    status: Status | None = None
    detector: str | None = None
    severity: Severity | None = None
    cod_cmp: str | None = None
    cod_elp: str | None = None
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 1000:
            raise ValueError(f"limit must be between 1 and 1000, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, got {self.offset}")


_ALERT_TIMES = tuple(c.name for c in alert.columns if isinstance(c.type, DateTime))


def record_from_row(row: RowMapping) -> AlertRecord:
    """The record of an ``alert`` row; a column without a field fails here, loudly."""
    values = dict(row)
    values |= {name: from_db_time(values[name]) for name in _ALERT_TIMES}
    values["evidence"] = evidence_from_json(values["evidence"])
    return AlertRecord(**values)


def list_alerts(conn: Connection, flt: AlertFilter) -> list[AlertRecord]:
    """Alerts matching ``flt``, most recently changed first."""
    query = select(alert)
    for column, wanted in (
        (alert.c.status, flt.status),
        (alert.c.detector, flt.detector),
        (alert.c.severity, flt.severity),
        (alert.c.cod_cmp, flt.cod_cmp),
        (alert.c.cod_elp, flt.cod_elp),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    query = query.order_by(alert.c.updated_at.desc(), alert.c.id.desc())
    rows = conn.execute(query.limit(flt.limit).offset(flt.offset)).mappings()
    return [record_from_row(row) for row in rows]


def get_alert(conn: Connection, alert_id: int, *, for_update: bool = False) -> AlertRecord | None:
    query = select(alert).where(alert.c.id == alert_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else record_from_row(row)


def alert_history(conn: Connection, alert_id: int) -> list[AlertEventRecord]:
    """The alert's audit trail, oldest first."""
    rows = conn.execute(
        select(alert_event)
        .where(alert_event.c.alert_id == alert_id)
        .order_by(alert_event.c.at, alert_event.c.id)
    ).mappings()
    return [
        AlertEventRecord(
            **{**row, "at": from_db_time(row["at"]), "until": from_db_time(row["until"])}
        )
        for row in rows
    ]


def record_event(
    conn: Connection,
    alert_id: int,
    *,
    at: datetime,
    actor: str,
    action: str,
    from_status: Status | None,
    to_status: Status,
    rule: str,
    comment: str | None = None,
    until: datetime | None = None,
) -> None:
    conn.execute(
        insert(alert_event).values(
            alert_id=alert_id,
            at=to_db_time(at),
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            rule=rule,
            comment=comment,
            until=None if until is None else to_db_time(until),
        )
    )


def relabel_causes(conn: Connection, labels: Mapping[str, str]) -> int:
    """Write today's label of each cause on its alerts, open or not; the rows changed.

    The catalogue is the daemon's (``monitor.cause_catalogue``): alerts stored before
    the ``cause_label`` column, or before a label was reworded, read as today's.
    """
    changed = 0
    for cause, label in sorted(labels.items()):
        result = conn.execute(
            update(alert)
            .where(alert.c.cause == cause)
            .where(or_(alert.c.cause_label.is_(None), alert.c.cause_label != label))
            .values(cause_label=label)
        )
        changed += result.rowcount
    return changed


def count_by_status(conn: Connection) -> list[tuple[str, str, str, int]]:
    """(status, detector, severity, count) for every combination present: the gauge."""
    rows = conn.execute(
        select(alert.c.status, alert.c.detector, alert.c.severity, func.count())
        .group_by(alert.c.status, alert.c.detector, alert.c.severity)
        .order_by(alert.c.status, alert.c.detector, alert.c.severity)
    )
    return [(status, detector, severity, int(count)) for status, detector, severity, count in rows]


def acknowledge(
    conn: Connection,
    alert_id: int,
    *,
    actor: str,
    comment: str | None,
    now: datetime,
    expected_until: datetime | None = None,
) -> AlertRecord:
    """An operator takes the alert in hand.

    With ``expected_until`` the alert stays quiet until that date even if it
    worsens or goes and comes back; seen after it, it reopens and is notified.
    An acknowledged alert can be acknowledged again to set or move that date.
    """
    if expected_until is not None and expected_until <= now:
        raise ValueError(
            f"expected until {expected_until.isoformat()} is not after now {now.isoformat()}"
        )
    return _by_hand(
        conn,
        alert_id,
        Acknowledge(actor, comment, expected_until),
        now,
        {
            "acknowledged_at": to_db_time(now),
            "acknowledged_by": actor,
            "expected_until": None if expected_until is None else to_db_time(expected_until),
        },
        until=expected_until,
    )


def resolve_by_hand(
    conn: Connection, alert_id: int, *, actor: str, comment: str | None, now: datetime
) -> AlertRecord:
    """An operator declares the alert fixed; if the detector sees it again, it reopens.

    It also ends any "expected until": the operator closed the matter, so a
    recurrence is news.
    """
    return _by_hand(
        conn,
        alert_id,
        ResolveByHand(actor, comment),
        now,
        {"resolved_at": to_db_time(now), "expected_until": None},
    )


def snooze(
    conn: Connection,
    alert_id: int,
    *,
    actor: str,
    until: datetime,
    comment: str | None,
    now: datetime,
) -> AlertRecord:
    """Silence the alert until ``until`` (in the future); ``comment`` is the reason, required."""
    if until <= now:
        raise ValueError(f"snooze until {until.isoformat()} is not after now {now.isoformat()}")
    if comment is None or not comment.strip():
        raise ValueError("a snooze needs a reason")
    return _by_hand(
        conn,
        alert_id,
        Snooze(actor, until, comment),
        now,
        {"snoozed_until": to_db_time(until), "expected_until": None},
        until=until,
    )


def comment(
    conn: Connection, alert_id: int, *, actor: str, text: str, now: datetime
) -> AlertRecord:
    """Write ``text`` in the alert's audit trail; the status does not change, any status."""
    if not text.strip():
        raise ValueError("a comment needs text")
    return _by_hand(conn, alert_id, Comment(actor, text), now, {})


def _by_hand(
    conn: Connection,
    alert_id: int,
    event: Acknowledge | ResolveByHand | Snooze | Comment,
    now: datetime,
    values: dict[str, Any],
    *,
    until: datetime | None = None,
) -> AlertRecord:
    if not event.actor.strip():
        raise ValueError("an operator's action needs the operator's name")
    current = get_alert(conn, alert_id, for_update=True)
    if current is None:
        raise AlertNotFound(f"no alert {alert_id}")
    try:
        applied = transition(current.status, event)
    except TransitionRefused as refused:
        raise TransitionRefused(f"alert {alert_id}: {refused}") from refused
    conn.execute(
        update(alert)
        .where(alert.c.id == alert_id)
        .values(status=applied.status, updated_at=to_db_time(now), **values)
    )
    record_event(
        conn,
        alert_id,
        at=now,
        actor=event.actor,
        action=event.action,
        from_status=current.status,
        to_status=applied.status,
        rule=applied.rule,
        comment=event.text if isinstance(event, Comment) else event.comment,
        until=until,
    )
    updated = get_alert(conn, alert_id)
    assert updated is not None  # we hold the row
    return updated


class OutboxError(NamedTuple):
    """A notification whose last attempt failed (or was refused by some recipients)."""

    id: int
    attempts: int
    last_error: str


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """The mail outbox at a glance: counts by status, the oldest waiting, the latest errors."""

    queued: int
    sending: int
    sent: int
    failed: int
    oldest_queued_at: datetime | None
    last_errors: list[OutboxError]


def outbox_status(conn: Connection, *, errors: int = 20) -> OutboxStatus:
    """What the sender is doing, and the last ``errors`` failures it recorded, newest first.

    A row still queued with an error is being retried; ``failed`` rows were given
    up; a ``sent`` row with an error was refused by some of its recipients.
    """
    counts: dict[str, int] = {
        status: int(count)
        for status, count in conn.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        )
    }
    oldest = conn.execute(
        select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(("queued", "sending")))
    ).scalar_one()
    rows = conn.execute(
        select(outbox.c.id, outbox.c.attempts, outbox.c.last_error)
        .where(outbox.c.last_error.is_not(None))
        .order_by(outbox.c.id.desc())
        .limit(errors)
    )
    return OutboxStatus(
        queued=counts.get("queued", 0),
        sending=counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        oldest_queued_at=from_db_time(oldest),
        last_errors=[OutboxError(int(i), int(a), str(e)) for i, a, e in rows],
    )
