"""Deliver the outbox by SMTP, with retries; a failure stays in the outbox.

Each due row is first claimed (status ``sending`` with a lease), so two
workers never send it at the same time; a worker that dies mid-send leaves a
claim that expires and the row is sent again (at least once; the Message-ID
is derived from the dedup key, so mail clients show one message). Every
outcome is written in its own short transaction. Failures are counted in the
outcome and logged at WARNING with the outbox id and the SMTP reply, never
with an address (addresses in server replies are masked).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from alerts.store_values import to_db_time
from alerts.tables import outbox

logger = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
_BATCH = 100
_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """The relay and the delivery policy."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    timeout_seconds: float = 10.0
    max_attempts: int = 8
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 3600.0

    @property
    def claim_seconds(self) -> float:
        """How long a claimed row is left alone before another worker may retry it."""
        return max(60.0, 6 * self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """``failed``: will be retried; ``gave_up``: failed for the last time (status failed)."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def retry_delay(attempts: int, initial_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after ``attempts`` failed attempts, capped."""
    return timedelta(seconds=min(initial_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def describe_error(error: BaseException) -> str:
    """The error as stored and logged: the SMTP reply, with any address masked."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text = f"SMTPRecipientsRefused: all recipients refused (codes {codes})"
    elif isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text = f"{type(error).__name__}: {error.smtp_code} {reply_text}"
    else:
        text = f"{type(error).__name__}: {error}"
    return _ADDRESS.sub("<address>", text)[:1000]


def message_id(dedup_key: str, sender: str) -> str:
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "ecampus-monitor.invalid"
    return f"<{digest}@{domain}>"


def build_message(row: Any, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = sender
    message["To"] = ", ".join(row.recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(row.dedup_key, sender)
    # RFC 3834: no out-of-office replies to an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


def pending_count(conn: Connection) -> int:
    """Emails not delivered yet (queued or being sent): the outbox gauge."""
    count = conn.execute(
        select(func.count()).select_from(outbox).where(outbox.c.status.in_((QUEUED, SENDING)))
    ).scalar_one()
    return int(count)


class SmtpSender:
    """Sends the due outbox rows through ``target``."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target

    def deliver_due(self, engine: Engine, now: datetime) -> DeliveryOutcome:
        """Send every row due at ``now``; stops early when the relay is unreachable."""
        at = to_db_time(now)
        with engine.connect() as conn:
            due = conn.execute(
                select(outbox.c.id)
                .where(outbox.c.status.in_((QUEUED, SENDING)), outbox.c.next_attempt_at <= at)
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(_BATCH)
            ).scalars()
            due_ids = list(due)
        sent = failed = gave_up = 0
        relay: smtplib.SMTP | None = None
        try:
            for outbox_id in due_ids:
                row = self._claim(engine, outbox_id, at)
                if row is None:
                    continue  # another worker has it
                try:
                    if relay is None:
                        relay = self._connect()
                    refused = relay.send_message(
                        build_message(row, self.target.sender, now),
                        from_addr=self.target.sender,
                        to_addrs=list(row.recipients),
                    )
                except Exception as error:  # recorded on the row and logged, never dropped
                    if self._failed(engine, row, at, error):
                        gave_up += 1
                    else:
                        failed += 1
                    if relay is None or _connection_lost(error):
                        # Could not connect or lost the relay: the others wait their turn.
                        _quietly_closed(relay)
                        relay = None
                        break
                    continue
                self._sent(engine, row, at, refused)
                sent += 1
        finally:
            _quietly_closed(relay)
        return DeliveryOutcome(sent=sent, failed=failed, gave_up=gave_up)

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        relay: smtplib.SMTP
        if target.use_ssl:
            relay = smtplib.SMTP_SSL(
                target.host,
                target.port,
                timeout=target.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            relay = smtplib.SMTP(target.host, target.port, timeout=target.timeout_seconds)
        try:
            if target.starttls:
                relay.starttls(context=ssl.create_default_context())
            if target.username:
                relay.login(target.username, target.password or "")
        except BaseException:
            _quietly_closed(relay)
            raise
        return relay

    def _claim(self, engine: Engine, outbox_id: int, at: datetime) -> Any:
        lease = at + timedelta(seconds=self.target.claim_seconds)
        with engine.begin() as conn:
            claimed = conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == outbox_id,
                    outbox.c.status.in_((QUEUED, SENDING)),
                    outbox.c.next_attempt_at <= at,
                )
                .values(status=SENDING, next_attempt_at=lease)
            )
            if claimed.rowcount != 1:
                return None
            return conn.execute(select(outbox).where(outbox.c.id == outbox_id)).one()

    def _sent(self, engine: Engine, row: Any, at: datetime, refused: dict[str, Any]) -> None:
        note = None
        if refused:
            # Delivered to the others: a partial refusal is reported, not retried.
            note = describe_error(smtplib.SMTPRecipientsRefused(refused))
            note = f"{len(refused)} of {len(row.recipients)} recipients refused: {note}"
            logger.warning("outbox %s: sent, but %s", row.id, note)
        with engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(status=SENT, sent_at=at, attempts=row.attempts + 1, last_error=note)
            )

    def _failed(self, engine: Engine, row: Any, at: datetime, error: Exception) -> bool:
        """Record a failed attempt; whether it was the last one."""
        attempts = row.attempts + 1
        reason = describe_error(error)
        give_up = bool(attempts >= self.target.max_attempts)
        values: dict[str, Any] = {"attempts": attempts, "last_error": reason}
        if give_up:
            values |= {"status": FAILED}
            logger.warning("outbox %s: giving up after %d attempts: %s", row.id, attempts, reason)
        else:
            delay = retry_delay(
                attempts, self.target.retry_initial_seconds, self.target.retry_max_seconds
            )
            values |= {"status": QUEUED, "next_attempt_at": at + delay}
            logger.warning(
                "outbox %s: attempt %d failed, retrying in %ss: %s",
                row.id,
                attempts,
                int(delay.total_seconds()),
                reason,
            )
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
        return give_up


def _connection_lost(error: Exception) -> bool:
    """Whether the connection is unusable (the rest of the batch waits), not just this email."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    # SMTPException derives from OSError: a refused recipient is not a lost relay.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _quietly_closed(relay: smtplib.SMTP | None) -> None:
    """Close a connection whose outcome is already recorded; its QUIT failing changes nothing."""
    if relay is None:
        return
    try:
        relay.quit()
    except OSError:  # SMTPException included
        relay.close()
