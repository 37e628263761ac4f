"""The daily digest: one email per recipient per day, in French, grouped by course and cause.

At the policy's digest time (07:30 Europe/Paris by default, after the night's
run) each recipient of at least one *news* or *reminder* gets one email:

- news: an alert whose notifying transition (new, back, worsened, end of a
  snooze or of an "expected until") happened in the digest's window and was
  not emailed at once;
- reminders: alerts open for ``reminder_after``, then every ``reminder_every``;
- for context, the recipient's other open alerts ("toujours ouverte"; those
  emailed at once in the window say so: an immediate alert is not repeated as
  news), and the alerts resolved in the window.

A day with neither news nor reminder sends nothing: the same list every morning
teaches people to ignore it. The window runs from the previous digest built
(``digest_run``) to this one's slot, so a digest skipped because the daemon
was down loses nothing: the next one covers it. The outbox key
``digest:<recipient hash>:<day>`` and the ``digest_run`` row make a restart or
a second worker unable to queue a day's digest twice.

Example::

    DigestJob(router, policy, public_url).run(engine, now)   # each cycle; cheap when done
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from alerts.lifecycle import NOTIFYING_RULES
from alerts.notify.digest_compose import Digest, News, compose_digests
from alerts.notify.render_digest import render_digest
from alerts.policy import NotificationPolicy
from alerts.repository import record_from_row
from alerts.routing import Router
from alerts.store_values import from_db_time, to_db_time
from alerts.tables import alert, alert_event, digest_run, outbox

__all__ = ["MAX_WINDOW", "Digest", "DigestJob", "build_digests", "enqueue_digests", "window_start"]

logger = logging.getLogger(__name__)
# Never look further back than this, whatever the last digest built.
MAX_WINDOW = timedelta(days=7)
_CHUNK = 500


def build_digests(
    conn: Connection, now: datetime, router: Router, policy: NotificationPolicy
) -> list[Digest]:
    """The digests of the latest digest slot at or before ``now``, from the store."""
    day, slot = policy.digest_slot(now)
    start = window_start(conn, day, slot)
    start_db, end_db = to_db_time(start), to_db_time(slot)
    open_alerts = [
        record_from_row(row)
        for row in conn.execute(
            select(alert).where(alert.c.status == "open", alert.c.opened_at <= end_db)
        ).mappings()
    ]
    resolved = [
        record_from_row(row)
        for row in conn.execute(
            select(alert).where(
                alert.c.status == "resolved",
                alert.c.opened_at.is_not(None),  # a settled prediction was never anyone's news
                alert.c.resolved_at > start_db,
                alert.c.resolved_at <= end_db,
            )
        ).mappings()
    ]
    ids = [record.id for record in open_alerts]
    return compose_digests(
        day=day,
        window_start=start,
        window_end=slot,
        open_alerts=open_alerts,
        resolved=resolved,
        news=_news(conn, ids, start_db, end_db),
        emailed=_emailed(conn, ids, start_db, end_db),
        router=router,
        policy=policy,
    )


def window_start(conn: Connection, day: date, slot: datetime) -> datetime:
    """Where the digest of ``day`` starts: the previous digest built, at most a week back."""
    previous = conn.execute(
        select(func.max(digest_run.c.slot_at)).where(digest_run.c.day < day)
    ).scalar_one()
    floor = slot - MAX_WINDOW
    if previous is None:
        return slot - timedelta(days=1)
    start = from_db_time(previous)
    assert start is not None
    return max(start, floor)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for begin in range(0, len(ids), _CHUNK):
        yield ids[begin : begin + _CHUNK]


def _news(conn: Connection, ids: Sequence[int], start: datetime, end: datetime) -> dict[int, News]:
    latest: dict[int, News] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(alert_event.c.alert_id, alert_event.c.rule, alert_event.c.at)
            .where(
                alert_event.c.alert_id.in_(chunk),
                alert_event.c.rule.in_(sorted(NOTIFYING_RULES)),
                alert_event.c.at > start,
                alert_event.c.at <= end,
            )
            .order_by(alert_event.c.at, alert_event.c.id)
        )
        for alert_id, rule, at in rows:
            moment = from_db_time(at)
            assert moment is not None
            latest[int(alert_id)] = News(str(rule), moment)
    return latest


def _emailed(
    conn: Connection, ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, datetime]:
    emailed: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(outbox.c.alert_id, func.max(outbox.c.created_at))
            .where(
                outbox.c.alert_id.in_(chunk),
                outbox.c.created_at > start,
                outbox.c.created_at <= end,
            )
            .group_by(outbox.c.alert_id)
        )
        for alert_id, created_at in rows:
            moment = from_db_time(created_at)
            assert moment is not None
            emailed[int(alert_id)] = moment
    return emailed


def enqueue_digests(
    conn: Connection,
    now: datetime,
    *,
    router: Router,
    policy: NotificationPolicy,
    public_url: str,
) -> int:
    """Queue the digests due at ``now`` unless already built; how many were queued.

    Cheap when today's digests are built (one primary-key lookup): call it every
    cycle. A concurrent worker building the same day makes this transaction fail
    with ``IntegrityError`` on ``digest_run``: nothing is queued twice.
    """
    day, slot = policy.digest_slot(now)
    built = conn.execute(select(digest_run.c.day).where(digest_run.c.day == day)).first()
    if built is not None or now - slot > policy.digest_max_delay:
        return 0
    digests = build_digests(conn, now, router, policy)
    at = to_db_time(now)
    queued = 0
    for digest in digests:
        key = digest.dedup_key
        if conn.execute(select(outbox.c.id).where(outbox.c.dedup_key == key)).first() is not None:
            continue
        email = render_digest(
            digest,
            public_url=public_url,
            contact=router.cemu,
            composante_name=router.composante_name,
            timezone=policy.timezone,
        )
        conn.execute(
            insert(outbox).values(
                dedup_key=key,
                alert_id=None,
                recipients=[digest.recipient],
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                attachments=[a.as_json() for a in email.attachments] or None,
                status="queued",
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
        queued += 1
    conn.execute(
        insert(digest_run).values(
            day=day,
            slot_at=to_db_time(slot),
            window_start=to_db_time(window_start(conn, day, slot)),
            digests=queued,
            created_at=at,
        )
    )
    logger.info("digests of %s: %d queued", day.isoformat(), queued)
    return queued


class DigestJob:
    """Queue the day's digests in their own transaction; a concurrent worker's win is not an error."""

    def __init__(self, router: Router, policy: NotificationPolicy, public_url: str) -> None:
        self.router = router
        self.policy = policy
        self.public_url = public_url

    def run(self, engine: Engine, now: datetime) -> int:
        try:
            with engine.begin() as conn:
                return enqueue_digests(
                    conn, now, router=self.router, policy=self.policy, public_url=self.public_url
                )
        except IntegrityError:
            day, _ = self.policy.digest_slot(now)
            with engine.connect() as conn:
                built = conn.execute(select(digest_run.c.day).where(digest_run.c.day == day))
                if built.first() is None:
                    raise  # not the race with another worker: a real error
            logger.info("digests of %s: built by another worker", day.isoformat())
            return 0
