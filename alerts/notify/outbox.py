"""Queue an immediate alert's email in the outbox, once, in the caller's transaction.

Only what the policy calls immediate is emailed one by one (critical alerts,
courses archived tonight); every other notifying transition waits for the
recipient's daily digest (``alerts.notify.digest``), which finds it in the
audit trail. A flapping alert emailed less than ``flap_email_every`` ago is
not emailed again at once: the next digest tells.

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
from alerts.policy import NotificationPolicy
from alerts.repository import AlertRecord
from alerts.routing import Router
from alerts.store_values import to_db_time
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
    elif rule == "expectation-over":
        key += f":expected-over-{alert.updated_at:%Y%m%dT%H%M%S}"
    return key


class Notifier:
    """Renders, routes and queues the email of a notifying transition, if it is immediate."""

    def __init__(
        self,
        router: Router,
        public_url: str,
        *,
        timezone: str | None = None,
        policy: NotificationPolicy | None = None,
    ) -> None:
        self.router = router
        self.public_url = public_url
        self.policy = policy or NotificationPolicy()
        self.timezone = timezone or self.policy.timezone

    def enqueue(self, conn: Connection, alert: AlertRecord, rule: str, now: datetime) -> bool:
        """Queue the email if the policy says now, and it was not queued before; whether queued."""
        if not self.policy.is_immediate(alert):
            return False
        if rule == "reopened-flapping" and self._emailed_since(
            conn, alert, now - self.policy.flap_email_every
        ):
            return False
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
                copy_recipients=self.router.in_copy(alert) or None,
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                attachments=[a.as_json() for a in email.attachments] or None,
                status=QUEUED,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
        return True

    @staticmethod
    def _emailed_since(conn: Connection, alert: AlertRecord, since: datetime) -> bool:
        row = conn.execute(
            select(outbox.c.id)
            .where(outbox.c.alert_id == alert.id, outbox.c.created_at >= to_db_time(since))
            .limit(1)
        ).first()
        return row is not None
