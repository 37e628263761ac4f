"""Notifications given up: listed, raised as a CEMU alert, and re-queued on request.

A notification is given up when nobody will receive it (status ``failed``) or
when some of its recipients were refused for good (``refused_recipients`` on a
``sent`` row). ``given_up_findings`` turns them into one ``notifications_failed``
finding for the CEMU (counts and outbox ids only: no address, no name), which
``GivenUpCheck`` reconciles like a detector's: the alert opens while some are
given up and resolves once they are re-queued and delivered. ``requeue`` puts
them back in the queue (only the recipients given up), writes who did it in
``outbox_event``, and the retry age starts again from then.

Example::

    requeue(conn, [12, 13], actor="astreinte-cemu", now=now)   # or ids=None: all of them
    GivenUpCheck(notifier).run(engine, now)                      # each delivery cycle
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.store_values import from_db_time, to_db_time
from alerts.tables import outbox, outbox_event
from detectors.causes import DeclaredCause
from detectors.findings import Evidence, Finding
from detectors.model.describe import agree, plural

logger = logging.getLogger(__name__)

DETECTOR = "notifications_failed"
CAUSE = "notifications_failed"
OWN_CAUSE = DeclaredCause(
    CAUSE, "Courriels abandonnés après refus du serveur de messagerie", "cemu"
)
OWN_CAUSES = (OWN_CAUSE,)
REMEDIATION = (
    "Lisez l'erreur de chaque notification (GET /outbox, ou la commande « ecampus-monitor "
    "outbox retry --help ») : adresse inconnue, relais qui refuse l'expéditeur… Corrigez la "
    "cause (fichier de routage, configuration SMTP), puis renvoyez-les : « ecampus-monitor "
    "outbox retry --all-failed » ou POST /outbox/retry."
)
_SHOWN_IDS = 20
_given_up = or_(outbox.c.status == "failed", outbox.c.refused_recipients.is_not(None))


class RequeueRefused(ValueError):
    """Some of the asked notifications are not given up (unknown, queued or delivered)."""

    def __init__(self, ids: Sequence[int]) -> None:
        super().__init__("not a given-up notification: " + ", ".join(str(i) for i in sorted(ids)))
        self.ids = tuple(ids)


@dataclass(frozen=True, slots=True)
class GivenUp:
    """One given-up notification, as operators see it (recipients counted, not named)."""

    id: int
    alert_id: int | None
    status: str
    attempts: int
    recipients: int
    refused: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxAction:
    """One line of the outbox's audit trail."""

    outbox_id: int
    at: datetime
    actor: str
    action: str
    comment: str | None


def given_up(conn: Connection, *, limit: int = 100) -> list[GivenUp]:
    """The given-up notifications, newest first."""
    rows = conn.execute(select(outbox).where(_given_up).order_by(outbox.c.id.desc()).limit(limit))
    found = []
    for row in rows:
        created = from_db_time(row.created_at)
        assert created is not None
        refused = row.refused_recipients or []
        found.append(
            GivenUp(
                id=int(row.id),
                alert_id=row.alert_id,
                status=str(row.status),
                attempts=int(row.attempts),
                recipients=len(row.recipients),
                refused=len(refused) if refused else len(row.recipients),
                last_error=row.last_error,
                created_at=created,
            )
        )
    return found


def given_up_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(outbox).where(_given_up)).scalar_one())


def outbox_history(conn: Connection, *, limit: int = 50) -> list[OutboxAction]:
    """The latest operators' actions on the outbox, newest first."""
    rows = conn.execute(
        select(outbox_event)
        .order_by(outbox_event.c.at.desc(), outbox_event.c.id.desc())
        .limit(limit)
    )
    history = []
    for row in rows:
        at = from_db_time(row.at)
        assert at is not None
        history.append(OutboxAction(int(row.outbox_id), at, row.actor, row.action, row.comment))
    return history


def requeue(conn: Connection, ids: Sequence[int] | None, *, actor: str, now: datetime) -> list[int]:
    """Queue again the given-up notifications ``ids`` (None: every one); the ids re-queued.

    Raises ``RequeueRefused`` (and changes nothing) when an asked id is not given up.
    """
    if not actor.strip():
        raise ValueError("a re-queue needs the operator's name")
    query = select(outbox).where(_given_up).order_by(outbox.c.id)
    if ids is not None:
        query = query.where(outbox.c.id.in_(sorted(set(ids))))
    rows = list(conn.execute(query.with_for_update()))
    if ids is not None:
        missing = set(ids) - {int(row.id) for row in rows}
        if missing:
            raise RequeueRefused(sorted(missing))
    at = to_db_time(now)
    for row in rows:
        # A partly delivered one goes again to those given up only; a failed one to everyone.
        again = row.refused_recipients if row.status == "sent" else None
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row.id)
            .values(
                status="queued",
                attempts=0,
                next_attempt_at=at,
                requeued_at=at,
                pending_recipients=again,
                refused_recipients=None,
            )
        )
        count = len(again) if again else len(row.recipients)
        conn.execute(
            insert(outbox_event).values(
                outbox_id=row.id,
                at=at,
                actor=actor,
                action="requeue",
                comment=f"{plural(count, 'destinataire')} de nouveau ; dernière erreur : {row.last_error}"[
                    :4000
                ],
            )
        )
    requeued = [int(row.id) for row in rows]
    if requeued:
        logger.info("outbox %s re-queued by %r", requeued, actor)
    return requeued


def given_up_findings(notifications: Sequence[GivenUp], total: int) -> list[Finding]:
    """One CEMU finding while some notifications are given up; none otherwise."""
    if total == 0:
        return []
    shown = ", ".join(str(n.id) for n in notifications[:_SHOWN_IDS])
    more = f" (et {plural(total - _SHOWN_IDS, 'autre')})" if total > _SHOWN_IDS else ""
    title = plural(
        total, "notification par courriel abandonnée", "notifications par courriel abandonnées"
    )
    refused = agree(total, "l'a refusée", "les a refusées")
    evidence = tuple(
        Evidence(
            "outbox",
            f"notification {n.id} : {n.refused} sur {plural(n.recipients, 'destinataire')} "
            f"{agree(n.refused, 'abandonné', 'abandonnés')} ; "
            f"réponse du serveur : {n.last_error or 'aucune'}",
            n.created_at,
        )
        for n in notifications[:5]
    )
    return [
        Finding(
            detector=DETECTOR,
            subject="outbox",
            cause=CAUSE,
            cause_label=OWN_CAUSE.shown,
            title=title,
            summary=(
                f"{title} : le serveur de courrier {refused} définitivement (5xx) ou "
                f"temporairement pendant trop longtemps. Notifications : {shown}{more}."
            ),
            remediation=REMEDIATION,
            severity="warning",
            audience="cemu",
            affected_count=total,
            evidence=evidence,
        )
    ]


class GivenUpCheck:
    """Reconcile the ``notifications_failed`` alert with the outbox, in its own transaction."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def run(self, engine: Engine, now: datetime) -> int:
        """Open, update or resolve the alert; how many notifications are given up."""
        try:
            with engine.begin() as conn:
                total = given_up_count(conn)
                findings = given_up_findings(given_up(conn, limit=_SHOWN_IDS), total)
                reconcile(
                    conn,
                    findings,
                    detectors=[DETECTOR],
                    subjects=None,
                    now=now,
                    notifier=self.notifier,
                )
        except IntegrityError:
            # Another worker opened the same alert at the same moment: its transaction won,
            # and the next cycle finds the alert. Not an error of this one.
            logger.info("%s: reconciled by another worker", DETECTOR)
            return 0
        return total
