"""Deliver the outbox by SMTP: temporary failures retried for days, permanent ones given up.

What the relay says decides (RFC 5321): a 4xx reply, a relay that cannot be
reached or drops the connection, is temporary: the notification is retried with
backoff until ``max_age`` after it was queued (3 days by default), then given
up. A 5xx reply is permanent for the recipients it refuses: those are given up
at once, the others delivered (a message with several recipients is sent again
only to those refused temporarily, ``pending_recipients``). Given-up recipients
are kept in ``refused_recipients``; ``alerts.notify.given_up`` shows them, raises
the CEMU alert and re-queues them on an operator's request.

Each due row is first claimed (status ``sending`` with a lease), so two
workers never send it at the same time; a worker that dies mid-send leaves a
claim that expires and the row is sent again (at least once; the Message-ID
is derived from the dedup key, so mail clients show one message). Every
outcome is written in its own short transaction. The message, with the files
the row carries (the people's CSV), is built by ``alerts.notify.message``. Failures are counted in the
outcome and logged at WARNING with the outbox id and the SMTP reply, never
with an address (addresses in server replies are masked).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, select, update

from alerts.notify.message import build_message
from alerts.notify.message import message_id as message_id  # re-exported for callers
from alerts.notify.smtp_replies import Attempt, attempt_of, describe_error
from alerts.store_values import from_db_time, to_db_time
from alerts.tables import outbox

logger = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
_BATCH = 100


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
    max_attempts: int | None = None
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    max_age: timedelta = timedelta(days=3)

    @property
    def claim_seconds(self) -> float:
        """How long a claimed row is left alone before another worker may retry it."""
        return max(60.0, 6 * self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """Notifications ``sent`` (to at least one recipient, nothing left to retry), ``failed``
    (temporarily: retried later) and ``gave_up`` (nobody will receive them: status failed);
    ``refused``: recipients given up, those of partly delivered notifications included."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    refused: int = 0


def retry_delay(attempts: int, initial_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after ``attempts`` failed attempts, capped."""
    return timedelta(seconds=min(initial_seconds * 2 ** max(attempts - 1, 0), max_seconds))


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
        tally = _Tally()
        relay: smtplib.SMTP | None = None
        try:
            for outbox_id in due_ids:
                row = self._claim(engine, outbox_id, at)
                if row is None:
                    continue  # another worker has it
                recipients = list(row.pending_recipients or row.recipients)
                try:
                    if relay is None:
                        relay = self._connect()
                    refused = relay.send_message(
                        build_message(row, self.target.sender, now),
                        from_addr=self.target.sender,
                        to_addrs=recipients,
                    )
                except Exception as error:  # recorded on the row and logged, never dropped
                    if relay is None:
                        # No session (refused connection, TLS, login): the relay's fault, not
                        # this message's, whatever the code: temporary for every message.
                        attempt = Attempt(temporary=tuple(recipients), error=describe_error(error))
                    else:
                        attempt = attempt_of(recipients, error)
                    tally.add(self._record(engine, row, at, attempt))
                    if relay is None or _connection_lost(error):
                        # Could not connect or lost the relay: the others wait their turn.
                        _quietly_closed(relay)
                        relay = None
                        break
                    continue
                tally.add(self._record(engine, row, at, attempt_of(recipients, refused)))
        finally:
            _quietly_closed(relay)
        return tally.outcome()

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

    def _record(
        self, engine: Engine, row: Any, at: datetime, attempt: Attempt
    ) -> tuple[Literal["sent", "retry", "failed"], int]:
        """Write what the attempt did on the row: where it stands, and recipients given up now."""
        attempts = row.attempts + 1
        everyone = list(row.recipients)
        before = list(row.refused_recipients or [])
        given_up = [*before, *attempt.permanent]
        retry = list(attempt.temporary)
        origin = from_db_time(row.requeued_at or row.created_at)
        assert origin is not None
        deadline = origin + self.target.max_age
        out_of_attempts = self.target.max_attempts is not None and (
            attempts >= self.target.max_attempts
        )
        if retry and (at >= to_db_time(deadline) or out_of_attempts):
            given_up += retry  # temporary for too long: now it is given up too
            retry = []
        values: dict[str, Any] = {"attempts": attempts, "last_error": attempt.error}
        if retry:
            delay = retry_delay(
                attempts, self.target.retry_initial_seconds, self.target.retry_max_seconds
            )
            values |= {
                "status": QUEUED,
                "next_attempt_at": min(at + delay, to_db_time(deadline)),
                "pending_recipients": retry,
                "refused_recipients": given_up or None,
            }
            outcome: Literal["sent", "retry", "failed"] = "retry"
            logger.warning(
                "outbox %s: attempt %d failed for %d of %d recipients, retrying in %ss: %s",
                row.id,
                attempts,
                len(retry),
                len(everyone),
                int((values["next_attempt_at"] - at).total_seconds()),
                attempt.error,
            )
        else:
            nobody = set(given_up) >= set(everyone)
            outcome = "failed" if nobody else "sent"
            values |= {
                "status": FAILED if nobody else SENT,
                "sent_at": None if nobody else at,
                "pending_recipients": None,
                "refused_recipients": given_up or None,
            }
            if given_up:
                why = attempt.error or row.last_error  # delivered now: the refusal said earlier
                note = f"{len(given_up)} of {len(everyone)} recipients given up: {why}"
                values["last_error"] = note[:1000]
                logger.warning("outbox %s: %s", row.id, note)
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
        return outcome, len(given_up) - len(before)


@dataclass(slots=True)
class _Tally:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    refused: int = 0

    def add(self, recorded: tuple[Literal["sent", "retry", "failed"], int]) -> None:
        outcome, refused = recorded
        self.sent += outcome == "sent"
        self.failed += outcome == "retry"
        self.gave_up += outcome == "failed"
        self.refused += refused

    def outcome(self) -> DeliveryOutcome:
        return DeliveryOutcome(self.sent, self.failed, self.gave_up, self.refused)


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
