"""Stored alerts and their audit trail: read them, and apply operators' actions.

Datetimes are stored naive in UTC on every backend and come out timezone-aware
(UTC). Every change of an alert is written with an ``alert_event`` row in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, RowMapping, func, insert, select, update

from alerts.lifecycle import (
    Acknowledge,
    ResolveByHand,
    Snooze,
    Status,
    TransitionRefused,
    transition,
)
from alerts.tables import alert, alert_event
from detectors.findings import Audience, Evidence, Phase, Severity


class AlertNotFound(LookupError):
    """No alert has this id."""


def to_db_time(moment: datetime) -> datetime:
    """``moment`` as the store keeps it: naive, in UTC. A naive input is a bug upstream."""
    if moment.tzinfo is None:
        raise ValueError(f"timezone-aware datetime expected, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db_time(stored: datetime | None) -> datetime | None:
    return None if stored is None else stored.replace(tzinfo=UTC)


def evidence_to_json(evidence: Sequence[Evidence]) -> list[dict[str, str | None]]:
    return [
        {
            "rule": item.rule,
            "fact": item.fact,
            "as_of": None if item.as_of is None else to_db_time(item.as_of).isoformat(),
        }
        for item in evidence
    ]


def evidence_from_json(stored: Sequence[Mapping[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            rule=str(item["rule"]),
            fact=str(item["fact"]),
            as_of=(
                None
                if item.get("as_of") is None
                else datetime.fromisoformat(str(item["as_of"])).replace(tzinfo=UTC)
            ),
        )
        for item in stored
    )


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
    return [AlertEventRecord(**{**row, "at": from_db_time(row["at"])}) for row in rows]


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
        )
    )


def count_by_status(conn: Connection) -> list[tuple[str, str, str, int]]:
    """(status, detector, severity, count) for every combination present: the gauge."""
    rows = conn.execute(
        select(alert.c.status, alert.c.detector, alert.c.severity, func.count())
        .group_by(alert.c.status, alert.c.detector, alert.c.severity)
        .order_by(alert.c.status, alert.c.detector, alert.c.severity)
    )
    return [(status, detector, severity, int(count)) for status, detector, severity, count in rows]


def acknowledge(
    conn: Connection, alert_id: int, *, actor: str, comment: str | None, now: datetime
) -> AlertRecord:
    """An operator takes the alert in hand; raises ``AlertNotFound``, ``TransitionRefused``."""
    at = to_db_time(now)
    return _by_hand(
        conn,
        alert_id,
        Acknowledge(actor, comment),
        now,
        {"acknowledged_at": at, "acknowledged_by": actor},
    )


def resolve_by_hand(
    conn: Connection, alert_id: int, *, actor: str, comment: str | None, now: datetime
) -> AlertRecord:
    """An operator declares the alert fixed; if the detector sees it again, it reopens."""
    return _by_hand(
        conn, alert_id, ResolveByHand(actor, comment), now, {"resolved_at": to_db_time(now)}
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
    """Silence the alert until ``until`` (in the future)."""
    if until <= now:
        raise ValueError(f"snooze until {until.isoformat()} is not after now {now.isoformat()}")
    return _by_hand(
        conn,
        alert_id,
        Snooze(actor, until, comment),
        now,
        {"snoozed_until": to_db_time(until)},
    )


def _by_hand(
    conn: Connection,
    alert_id: int,
    event: Acknowledge | ResolveByHand | Snooze,
    now: datetime,
    values: dict[str, Any],
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
        comment=event.comment,
    )
    updated = get_alert(conn, alert_id)
    assert updated is not None  # we hold the row
    return updated
