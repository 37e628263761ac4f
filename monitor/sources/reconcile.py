"""Compare the state store with the source tables: rows missing, extra or different, per table.

Each source row goes through the ingest's own path (a Debezium ``r`` event,
``change_from_debezium``) so that both sides are canonical facts; the store
side is one digest per live key of the entity (memory: one small entry per
key of one table at a time). Nothing in the store is changed: the drift is
reported as metrics and as one CEMU alert per drifting table
(``source_drift``), resolved when a later reconciliation finds none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from detectors.causes import DeclaredCause
from detectors.findings import Evidence, Finding
from detectors.model.describe import number, plural
from monitor.config import Settings
from monitor.kafka.contracts import DebeziumPayload, DebeziumSource
from monitor.kafka.mapping import InvalidRow, change_from_debezium, fact_to_row
from monitor.metrics import Metrics
from monitor.sources.reader import TableSpec, read_rows, with_key_types
from monitor.store.rows import row_converter
from monitor.store.schema import fact_tables

DETECTOR = "source_drift"
CAUSE = "drift"
OWN_CAUSE = DeclaredCause(CAUSE, "Écart entre l'état du suivi et la table source", "cemu")
OWN_CAUSES = (OWN_CAUSE,)
REMEDIATION = (
    "Vérifiez le connecteur Debezium de cette source (position reprise trop ancienne, table "
    "recréée, instantané manqué) et relancez un instantané (snapshot) de la table, ou lisez "
    "la source sans Debezium : « ecampus-monitor source refer --once » (ou moodle)."
)
# The drift's kinds, in French, for the alert's evidence (examples of keys of each).
DRIFT_KINDS = {
    "missing": "exemples de lignes absentes du suivi",
    "extra": "exemples de lignes en trop dans le suivi",
    "different": "exemples de lignes différentes",
}
_EXAMPLES = 5


@dataclass
class Drift:
    """How one table's rows in the store differ from the source's."""

    topic: str
    source_rows: int = 0
    missing: int = 0  # in the source, not (or deleted) in the store
    extra: int = 0  # live in the store, not in the source
    different: int = 0
    unmappable: int = 0  # source rows the mapping refuses (the ingest dead-letters them)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.missing + self.extra + self.different

    def note(self, kind: str, key: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        listed = self.examples.setdefault(kind, [])
        if len(listed) < _EXAMPLES:
            listed.append(key)


def _digest(row: dict[str, Any]) -> bytes:
    # The store keeps DATETIME to the second on MariaDB: compare at that precision.
    normal = {
        k: v.astimezone(UTC).replace(microsecond=0).isoformat() if isinstance(v, datetime) else v
        for k, v in row.items()
    }
    return hashlib.blake2b(
        json.dumps(normal, sort_keys=True, default=str).encode(), digest_size=8
    ).digest()


def store_digests(conn: Connection, spec_entity: Any) -> dict[str, bytes]:
    """Key -> digest of every live fact of the entity, streamed from the store."""
    table = fact_tables[spec_entity]
    columns, convert = row_converter(spec_entity)
    statement = select(table.c.key, *columns).where(table.c.tombstone.is_(False))
    digests: dict[str, bytes] = {}
    for key, *values in conn.execution_options(stream_results=True, yield_per=5000).execute(
        statement
    ):
        digests[key] = _digest(fact_to_row(convert(values)))
    return digests


def reconcile_table(
    src: Connection, store: Connection, settings: Settings, spec: TableSpec
) -> Drift:
    """The drift of ``spec``'s table between the source and the store."""
    mapping = settings.sources.topics[spec.topic]
    spec = with_key_types(src, spec)
    stored = store_digests(store, mapping.entity)
    drift = Drift(spec.topic)
    source = DebeziumSource(ts_ms=0)
    for _key, _hash, row_json in read_rows(src, spec, settings.source.batch_size):
        drift.source_rows += 1
        payload = DebeziumPayload(op="r", after=json.loads(row_json), source=source)
        try:
            change = change_from_debezium(mapping, payload)
        except (InvalidRow, ValueError, TypeError):
            drift.unmappable += 1
            continue
        digest = stored.pop(change.key, None)
        if digest is None:
            drift.note("missing", change.key)
        elif digest != _digest(change.row):
            drift.note("different", change.key)
    for key in sorted(stored)[:_EXAMPLES]:
        drift.examples.setdefault("extra", []).append(key)
    drift.extra = len(stored)
    return drift


def drift_finding(drift: Drift) -> Finding | None:
    """The CEMU alert of a drifting table; None when the store matches the source."""
    if drift.total == 0:
        return None
    table = drift.topic.split(".")[-1]
    counts = (
        f"{plural(drift.missing, 'ligne absente')} du suivi, {number(drift.extra)} en trop, "
        f"{plural(drift.different, 'ligne différente', 'lignes différentes')}, "
        f"sur {plural(drift.source_rows, 'ligne')} de la source"
    )
    return Finding(
        detector=DETECTOR,
        subject=drift.topic,
        cause=CAUSE,
        cause_label=OWN_CAUSE.shown,
        title=f"Le suivi ne correspond plus à la table {table} de la source",
        summary=f"Réconciliation de {drift.topic} : {counts}.",
        remediation=REMEDIATION,
        severity="warning",
        audience="cemu",
        affected_count=drift.total,
        evidence=tuple(
            Evidence(rule="source", fact=f"{DRIFT_KINDS[kind]} : {', '.join(keys)}")
            for kind, keys in sorted(drift.examples.items())
        ),
    )


def record(
    engine: Engine,
    drifts: Sequence[Drift],
    *,
    now: datetime,
    metrics: Metrics | None,
    notifier: Any,
) -> None:
    """Metrics and alerts of a reconciliation (tables not checked keep their alert as it is)."""
    from alerts.reconcile import reconcile

    if metrics is not None:
        for drift in drifts:
            for kind in ("missing", "extra", "different"):
                metrics.source_drift_rows.labels(drift.topic, kind).set(getattr(drift, kind))
    findings = [f for f in (drift_finding(d) for d in drifts) if f is not None]
    with engine.begin() as conn:
        reconcile(
            conn,
            findings,
            detectors=[DETECTOR],
            subjects=[d.topic for d in drifts],
            now=now,
            notifier=notifier,
        )


def reconcile_sources(
    settings: Settings,
    store: Engine,
    urls: dict[str, str],
    *,
    schemas: dict[str, str | None] | None = None,
) -> list[Drift]:
    """The drift of every configured table of the sources in ``urls`` (name -> URL)."""
    from sqlalchemy.exc import DBAPIError

    from monitor.sources.poller import (
        SourceUnavailable,
        describe_connection_error,
        source_engine,
        tables_of,
    )

    drifts: list[Drift] = []
    for name, url in urls.items():
        engine = source_engine(url)
        try:
            specs = tables_of(
                settings,
                name,
                dialect_name=engine.dialect.name,
                schema=(schemas or {}).get(name),
            )
            with engine.connect() as src, store.connect() as conn:
                drifts.extend(reconcile_table(src, conn, settings, spec) for spec in specs)
        except DBAPIError as error:
            raise SourceUnavailable(describe_connection_error(engine, error)) from None
        finally:
            engine.dispose()
    return drifts


def notifier_for(settings: Settings) -> Any:
    """The daemon's notifier (routing, policy): a drift alert is emailed as any other."""
    from alerts.notify.outbox import Notifier
    from alerts.routing import Router
    from monitor.daemon import notification_policy

    router = Router.load(settings.routing.file, settings.routing.cemu_address)
    return Notifier(router, settings.http.public_url, policy=notification_policy(settings))
