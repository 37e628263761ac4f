"""Dead letters known to detection (issue 10): stored by ingest, held alerts, one CEMU alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, insert, select

from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.repository import AlertFilter, list_alerts
from alerts.routing import Router
from alerts.tables import outbox
from detectors.findings import Finding
from monitor.dead_letter_alerts import (
    DETECTOR,
    HoldingNotifier,
    clear,
    held_alert_ids,
    reconcile_dead_letters,
)
from monitor.store.schema import dead_letter_entity
from tests.fixtures.broker import Produce, SettingsFactory, debezium_event, topic_of
from tests.integration.test_ingest import ELP_ROW, consume_until, make_loop

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
CEMU = "cemu@univ-test.fr"


def _entries(engine: Engine) -> list[tuple[str, str | None, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                dead_letter_entity.c.message_key,
                dead_letter_entity.c.cod_elp,
                dead_letter_entity.c.reason,
                dead_letter_entity.c.count,
            ).order_by(dead_letter_entity.c.message_key)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_dead_lettered_elp_is_recorded_and_forgotten_when_a_valid_change_supersedes_it(
    sqlite_engine: Engine, kafka_settings: SettingsFactory, produce: Produce
) -> None:
    settings = kafka_settings(entities=["elp"])
    elp_topic = topic_of(settings, "elp")
    bad_period = ELP_ROW | {"PERIODE": "S3"}  # not an APOGÉE period: unmappable
    with make_loop(settings, sqlite_engine, CollectorRegistry()) as loop:
        produce(elp_topic, debezium_event(bad_period, table="T_ADE_ACTIVITES"), key="INF1101")
        produce(
            elp_topic,
            debezium_event(ELP_ROW | {"COD_ELP": "INF1102", "PERIODE": "S9"}),
            key=b'{"payload": {"COD_ELP": "INF1102"}}',
        )
        consume_until(loop, lambda: len(_entries(sqlite_engine)) == 2)
        assert _entries(sqlite_engine) == [
            ("COD_ELP=INF1102", "INF1102", "unmappable_row", 1),
            ("INF1101", "INF1101", "unmappable_row", 1),
        ]
        # The same row arrives valid: superseded, forgotten; the other stays.
        produce(elp_topic, debezium_event(ELP_ROW, table="T_ADE_ACTIVITES"), key="INF1101")
        consume_until(loop, lambda: len(_entries(sqlite_engine)) == 1)
    assert _entries(sqlite_engine)[0][1] == "INF1102"


def _finding(cod_elp: str) -> Finding:
    return Finding(
        detector="course_idnumber_changed",
        subject=cod_elp,
        cause="code_changed",
        title=f"Le cours {cod_elp} a changé de code",
        summary="résumé",
        remediation="remède",
        severity="critical",
        audience="cemu",
        cod_elp=cod_elp,
    )


def _queued(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def test_alerts_on_a_dead_lettered_elp_are_held_and_the_cemu_gets_one_alert_per_topic(
    sqlite_engine: Engine,
) -> None:
    at = NOW.replace(tzinfo=None)
    with sqlite_engine.begin() as conn:
        for n in range(20):
            conn.execute(
                insert(dead_letter_entity).values(
                    topic="refer.REFER.T_ADE_ACTIVITES",
                    message_key=f"ELP{n:02d}",
                    cod_elp=f"ELP{n:02d}",
                    reason="unmappable_row",
                    count=1,
                    first_at=at,
                    last_at=at,
                )
            )
    notifier = HoldingNotifier(Router.load(None, CEMU), "https://ecm.test")

    with sqlite_engine.begin() as conn:
        outcome = reconcile(
            conn,
            [_finding("ELP00"), _finding("OTHER")],
            detectors=["course_idnumber_changed"],
            subjects=None,
            now=NOW,
            notifier=notifier,
        )
    assert outcome.opened == 2
    assert _queued(sqlite_engine) == 1  # OTHER only: ELP00's alert is held
    with sqlite_engine.connect() as conn:
        held = held_alert_ids(conn)
        elp00 = list_alerts(conn, AlertFilter(cod_elp="ELP00"))
    assert held == [elp00[0].id]

    reconcile_dead_letters(sqlite_engine, notifier, NOW)
    with sqlite_engine.connect() as conn:
        (dead,) = list_alerts(conn, AlertFilter(detector=DETECTOR))
    assert dead.audience == "cemu" and dead.status == "open"
    assert dead.subject == "refer.REFER.T_ADE_ACTIVITES"
    assert dead.affected_count == 20
    assert "ligne impossible à traduire (colonne absente ou valeur invalide) : 20 lignes" in (
        dead.summary
    )
    assert "unmappable_row" not in dead.summary and "(s)" not in dead.title

    assert clear(sqlite_engine) == 20
    reconcile_dead_letters(sqlite_engine, notifier, NOW + timedelta(minutes=1))
    with sqlite_engine.connect() as conn:
        (dead,) = list_alerts(conn, AlertFilter(detector=DETECTOR))
        assert held_alert_ids(conn) == []
    assert dead.status == "resolved"


def test_a_plain_notifier_would_have_emailed_the_held_alert(sqlite_engine: Engine) -> None:
    """The control: without dead letters known, the same finding is emailed at once."""
    with sqlite_engine.begin() as conn:
        reconcile(
            conn,
            [_finding("ELP00")],
            detectors=["course_idnumber_changed"],
            subjects=None,
            now=NOW,
            notifier=Notifier(Router.load(None, CEMU), "https://ecm.test"),
        )
    assert _queued(sqlite_engine) == 1
