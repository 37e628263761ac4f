"""Detection knows the dead letters (issue 10): one alert to the CEMU, and findings held.

A change refused at ingest is missing from the store, so what detectors say
about its ELP may be false (an ELP dead-lettered for a bad ``PERIODE`` looks
removed, renamed, without teacher). Two consequences, both read from the
``dead_letter_entity`` rows that ingest keeps (``monitor.kafka.ingest.dead_letter_entities``):

- ``ingest_dead_letters``: one alert per topic to the CEMU, saying how many
  rows and why; resolved when every entry is superseded by a valid change or
  cleared by an operator (``ecampus-monitor dlq clear``);
- alerts about an ELP with a dead-lettered change are *held*: reconciled and
  shown as usual, but not emailed at once (``HoldingNotifier``); ``/dead-letters``
  lists them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, select

from alerts.lifecycle import ACTIVE_STATUSES
from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.repository import AlertRecord
from alerts.store_values import from_db_time
from alerts.tables import alert
from detectors.causes import DeclaredCause
from detectors.findings import Evidence, Finding
from detectors.model.describe import agree, plural
from monitor.store.schema import dead_letter_entity

DETECTOR = "ingest_dead_letters"
CAUSE = "dead_lettered"
OWN_CAUSE = DeclaredCause(CAUSE, "Changements de la source refusés à l'entrée du suivi", "cemu")
OWN_CAUSES = (OWN_CAUSE,)
REMEDIATION = (
    "Lisez les enregistrements du topic de lettres mortes, corrigez la source ou la "
    "correspondance des colonnes (mapping), puis rejouez ; si c'est voulu, effacez-les avec "
    "la commande « ecampus-monitor dlq clear »."
)
# Why ingest refused a change, in French: every ``monitor.kafka.ingest.decode.ReasonKind``
# (tests/alerts/test_every_cause_in_french.py checks).
REASON_LABELS: Mapping[str, str] = {
    "not_json": "message illisible (pas du JSON)",
    "invalid_event": "événement Debezium non conforme au contrat",
    "unmappable_row": "ligne impossible à traduire (colonne absente ou valeur invalide)",
    "unknown_topic": "topic absent de la configuration",
    "rejected_by_store": "changement refusé par la base du suivi",
}


def reason_label(reason: str) -> str:
    """The French reason of a dead letter; an unknown one says so, never as a code."""
    return REASON_LABELS.get(reason, "autre motif")


def held_elps(conn: Connection) -> set[str]:
    """The ELPs with a dead-lettered change not superseded yet."""
    query = select(dead_letter_entity.c.cod_elp).where(dead_letter_entity.c.cod_elp.is_not(None))
    return {str(code) for code in conn.execute(query.distinct()).scalars()}


def held_alert_ids(conn: Connection) -> list[int]:
    """Active alerts about a held ELP (their emails wait)."""
    held = held_elps(conn)
    if not held:
        return []
    query = (
        select(alert.c.id)
        .where(alert.c.cod_elp.in_(sorted(held)), alert.c.status.in_(ACTIVE_STATUSES))
        .where(alert.c.detector != DETECTOR)
        .order_by(alert.c.id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def dead_letter_findings(conn: Connection) -> list[Finding]:
    """One finding per topic with dead-lettered rows: how many, and why."""
    rows = conn.execute(
        select(
            dead_letter_entity.c.topic,
            dead_letter_entity.c.reason,
            func.count(),
            func.min(dead_letter_entity.c.first_at),
        ).group_by(dead_letter_entity.c.topic, dead_letter_entity.c.reason)
    ).all()
    reasons: dict[str, Counter[str]] = {}
    since: dict[str, datetime] = {}
    for topic, reason, count, first_at in rows:
        reasons.setdefault(topic, Counter())[reason] += int(count)
        first = from_db_time(first_at)
        if first is not None:
            since[topic] = min(first, since.get(topic, first))
    return [_finding(topic, counted, since[topic]) for topic, counted in sorted(reasons.items())]


def _finding(topic: str, reasons: Counter[str], since: datetime | None) -> Finding:
    total = sum(reasons.values())
    why = " ; ".join(
        f"{reason_label(reason)} : {plural(count, 'ligne')}"
        for reason, count in reasons.most_common()
    )
    refused = agree(total, "a un changement refusé", "ont un changement refusé")
    return Finding(
        detector=DETECTOR,
        subject=topic,
        cause=CAUSE,
        cause_label=OWN_CAUSE.shown,
        title=f"{plural(total, 'changement refusé')} à l'entrée du suivi (topic {topic})",
        summary=(
            f"{plural(total, 'ligne')} du topic {topic} {refused}, mis en lettre morte "
            f"(topic {topic}.dlq) : {why}. Les alertes sur les éléments concernés sont "
            "retenues tant que le changement n'est pas arrivé valide."
        ),
        remediation=REMEDIATION,
        severity="warning",
        audience="cemu",
        affected_count=total,
        evidence=tuple(
            Evidence("ingest", f"{reason_label(reason)} : {plural(count, 'ligne')}", since)
            for reason, count in reasons.most_common()
        ),
    )


def reconcile_dead_letters(engine: Engine, notifier: Notifier, now: datetime) -> None:
    """Open, update or resolve the ``ingest_dead_letters`` alerts from the stored entries."""
    with engine.begin() as conn:
        reconcile(
            conn,
            dead_letter_findings(conn),
            detectors=[DETECTOR],
            subjects=None,
            now=now,
            notifier=notifier,
        )


def clear(engine: Engine, topic: str | None = None) -> int:
    """Forget the dead-lettered entries (of ``topic``, or all); how many were forgotten."""
    query = delete(dead_letter_entity)
    if topic is not None:
        query = query.where(dead_letter_entity.c.topic == topic)
    with engine.begin() as conn:
        return int(conn.execute(query).rowcount)


class HoldingNotifier(Notifier):
    """A ``Notifier`` that does not email alerts about an ELP with a dead-lettered change."""

    def enqueue(self, conn: Connection, alert: AlertRecord, rule: str, now: datetime) -> bool:
        if alert.detector != DETECTOR and alert.cod_elp and alert.cod_elp in held_elps(conn):
            return False
        return super().enqueue(conn, alert, rule, now)
