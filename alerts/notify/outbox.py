"""Queue an alert's email in the outbox, once, in the caller's transaction.

The outbox row is written in the same transaction as the alert's transition,
so an email is queued if and only if the transition is committed. Its
``dedup_key`` names the notification (alert, episode, state, and what made it
new); the unique constraint on it means a restart or a replay of the topics
can never queue the same email twice. A concurrent duplicate insert fails
with ``IntegrityError`` and rolls the whole reconciliation back: retried, it
finds the row and queues nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from alerts.notify.render import render_alert
from alerts.repository import AlertRecord, to_db_time
from alerts.routing import Router
from alerts.tables import outbox

QUEUED = "queued"


def dedup_key(alert: AlertRecord, rule: str) -> str:
    """The identity of the email ``rule`` sends about ``alert`` in its current state."""
    key = f"{alert.fingerprint}:{alert.episode}:{alert.status}"
    if rule == "acknowledged-worsened":
        # Each worsening past an acknowledgement is news; the count tells them apart.
        key += f":worsened-{alert.affected_count}-{alert.severity}"
    elif rule == "snooze-expired" and alert.snoozed_until is not None:
        key += f":snoozed-{alert.snoozed_until:%Y%m%dT%H%M%S}"
    return key


class Notifier:
    """Renders, routes and queues the email of a notifying transition."""

    def __init__(self, router: Router, public_url: str, *, timezone: str = "Europe/Paris") -> None:
        self.router = router
        self.public_url = public_url
        self.timezone = timezone

    def enqueue(self, conn: Connection, alert: AlertRecord, rule: str, now: datetime) -> bool:
        """Queue the email unless this very notification was queued before; whether queued."""
        key = dedup_key(alert, rule)
        already = conn.execute(select(outbox.c.id).where(outbox.c.dedup_key == key)).first()
        if already is not None:
            return False
        email = render_alert(
            alert,
            rule=rule,
            public_url=self.public_url,
            contact=self.router.cemu,
            composante_name=self.router.composante_name(alert.cod_cmp),
            timezone=self.timezone,
        )
        at = to_db_time(now)
        conn.execute(
            insert(outbox).values(
                dedup_key=key,
                alert_id=alert.id,
                recipients=self.router.recipients(alert),
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                status=QUEUED,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
        return True
