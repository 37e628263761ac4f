"""Push alerts to a Prometheus Alertmanager (API v2), an optional receiver beside email.

Labels identify an alert there and carry no personal data: ``alertname`` (the
detector), ``severity``, ``composante`` (``cod_cmp``), ``cod_elp`` (a course
code, not personal), ``cause``, ``fingerprint``. Annotations carry the French
title, summary and remediation (written without names or student numbers;
any email address is masked anyway), the link to the alert's page and its
status here. Evidence, where student numbers live, never leaves.

Active alerts (open, acknowledged, snoozed; acknowledgement and snooze have no
equivalent there, so they show in the ``status`` annotation) are sent with
``endsAt`` a few push intervals ahead: if we stop pushing, Alertmanager
resolves them by itself. Alerts resolved here recently are sent with
``endsAt = resolved_at``, so they resolve there. Pending alerts (predictions
tonight's run may settle) are not sent. A changed severity is a changed label
set, so a new alert there; the old one expires at its ``endsAt``.

Example::

    pusher = AlertmanagerPusher("http://127.0.0.1:9093", public_url="https://ecm.example.org")
    if pusher.due(now):
        with engine.connect() as conn:
            pusher.push(conn, now)   # raises AlertmanagerUnavailable: try again next cycle
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, select

from alerts.notify.causes import cause_label
from alerts.repository import AlertRecord, record_from_row
from alerts.store_values import to_db_time
from alerts.tables import alert

PUSHED_STATUSES = ("open", "acknowledged", "snoozed")
_BATCH = 500
_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


class AlertmanagerUnavailable(Exception):
    """Alertmanager did not take the alerts; push again next cycle (nothing is lost)."""


@dataclass(frozen=True, slots=True)
class PushOutcome:
    firing: int = 0
    resolved: int = 0


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _masked(text: str) -> str:
    return _ADDRESS.sub("<adresse>", text)


def labels_of(record: AlertRecord) -> dict[str, str]:
    """The labels that identify ``record`` in Alertmanager; none is personal data."""
    labels = {
        "alertname": record.detector,
        "severity": record.severity,
        "composante": record.cod_cmp,
        "cod_elp": record.cod_elp,
        "cause": record.cause,
        "fingerprint": record.fingerprint,
    }
    return {name: value for name, value in labels.items() if value}


def alertmanager_alert(
    record: AlertRecord, *, now: datetime, renew_for: timedelta, public_url: str
) -> dict[str, Any]:
    """One entry of the ``POST /api/v2/alerts`` body (pure)."""
    link = f"{public_url.rstrip('/')}/alerts/{record.id}"
    starts = record.opened_at or record.first_seen
    # Resolved: ends when it was resolved here. Active: ends unless renewed by the next push.
    ends = (record.resolved_at or now) if record.status == "resolved" else now + renew_for
    return {
        "labels": labels_of(record),
        "annotations": {
            "title": _masked(record.title),
            "summary": _masked(record.summary),
            "remediation": _masked(record.remediation),
            "cause_label": cause_label(record),
            "link": link,
            "status": record.status,
        },
        "startsAt": _rfc3339(starts),
        "endsAt": _rfc3339(max(ends, starts)),
        "generatorURL": link,
    }


def _batches(items: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


class AlertmanagerPusher:
    """Sends this store's alerts to one Alertmanager, every ``interval``."""

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        *,
        public_url: str,
        interval: timedelta = timedelta(minutes=1),
        resolved_lookback: timedelta = timedelta(hours=1),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = f"{url.rstrip('/')}/api/v2/alerts"
        self.timeout = timeout
        self.public_url = public_url
        self.interval = interval
        # Three intervals: a missed push or two does not resolve anything there.
        self.renew_for = 3 * interval
        self.resolved_lookback = max(resolved_lookback, self.renew_for)
        self.transport = transport
        self._last_attempt: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Whether a push is due (the first one always is)."""
        return self._last_attempt is None or now - self._last_attempt >= self.interval

    def push(self, conn: Connection, now: datetime) -> PushOutcome:
        """Send every active alert and the recently resolved ones; raises ``AlertmanagerUnavailable``."""
        self._last_attempt = now
        active = self._records(conn, alert.c.status.in_(PUSHED_STATUSES))
        resolved = self._records(
            conn,
            alert.c.status == "resolved",
            alert.c.opened_at.is_not(None),  # a settled prediction was never sent
            alert.c.resolved_at >= to_db_time(now - self.resolved_lookback),
        )
        body = [
            alertmanager_alert(r, now=now, renew_for=self.renew_for, public_url=self.public_url)
            for r in (*active, *resolved)
        ]
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            for batch in _batches(body):
                self._post(client, batch)
        return PushOutcome(firing=len(active), resolved=len(resolved))

    @staticmethod
    def _records(conn: Connection, *conditions: Any) -> list[AlertRecord]:
        rows = conn.execute(select(alert).where(*conditions).order_by(alert.c.id)).mappings()
        return [record_from_row(row) for row in rows]

    def _post(self, client: httpx.Client, batch: Iterable[dict[str, Any]]) -> None:
        try:
            response = client.post(self.endpoint, json=list(batch))
        except httpx.HTTPError as error:
            raise AlertmanagerUnavailable(
                f"{self.endpoint}: {type(error).__name__}: {error}"
            ) from error
        if response.status_code >= 300:
            raise AlertmanagerUnavailable(
                f"{self.endpoint}: HTTP {response.status_code}: {response.text[:500]}"
            )
