"""Given-up notifications: a CEMU alert without personal data, and re-queued by the CLI and API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select

from alerts.notify.given_up import DETECTOR, GivenUpCheck, RequeueRefused, given_up, requeue
from alerts.notify.outbox import Notifier
from alerts.notify.smtp import DeliveryOutcome, SmtpSender, SmtpTarget
from alerts.repository import AlertFilter, list_alerts
from alerts.routing import Composante, Router
from alerts.tables import alert_event, outbox, outbox_event
from detectors.base import DetectorConfig
from detectors.findings import Finding
from monitor.metrics import Metrics
from monitor.pipeline import DetectionPipeline
from tests.alerts.test_outbox_smtp import free_port
from tests.fixtures.findings import queue
from tests.monitor.web_support import OPERATOR, OPERATOR_TOKEN, make_client

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
CEMU = "cemu.assistance@example.org"
REFUSED = "ancienne.scolarite@example.org"
KEPT = "scolarite.droit@example.org"


class _Relay:
    """Refuses ``REFUSED`` with 550 until ``accept_all``; accepts everyone else."""

    def __init__(self) -> None:
        self.accept_all = False
        self.delivered: list[list[str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == REFUSED and not self.accept_all:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[_Relay, int]]:
    handler = _Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def notifier() -> Notifier:
    router = Router(
        cemu=CEMU,
        composantes={
            "13": Composante("13", "UFR Droit", (REFUSED,)),
            "14": Composante("14", "UFR Sciences", (REFUSED, KEPT)),
        },
    )
    return Notifier(router, "https://ecampus-monitor.example.org")


def send(engine: Engine, port: int, at: datetime) -> DeliveryOutcome:
    target = SmtpTarget(host="127.0.0.1", port=port, sender="ecm@example.org", timeout_seconds=5)
    return SmtpSender(target).deliver_due(engine, at)


def failed_alerts(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list_alerts(conn, AlertFilter(detector=DETECTOR))


def test_a_given_up_notification_raises_a_cemu_alert_without_personal_data(
    store_engine: Engine, make_finding: Callable[..., Finding], relay: tuple[_Relay, int]
) -> None:
    _, port = relay
    queue(store_engine, notifier(), make_finding(subject="A", cod_cmp="13"))
    assert send(store_engine, port, NIGHT) == DeliveryOutcome(gave_up=1, refused=1)

    assert GivenUpCheck(notifier()).run(store_engine, NIGHT) == 1

    [raised] = failed_alerts(store_engine)
    assert (raised.status, raised.audience, raised.affected_count) == ("open", "cemu", 1)
    shown = " ".join([raised.title, raised.summary, *(e.fact for e in raised.evidence)])
    assert "@" not in shown and "ancienne" not in shown
    assert "550" in shown
    assert "outbox retry --all-failed" in raised.remediation


def test_requeued_by_the_cli_it_is_delivered_and_the_alert_resolves(
    sqlite_engine: Engine,
    sqlite_url: str,
    make_finding: Callable[..., Finding],
    relay: tuple[_Relay, int],
) -> None:
    handler, port = relay
    queue(sqlite_engine, notifier(), make_finding(subject="A", cod_cmp="13"))
    send(sqlite_engine, port, NIGHT)
    GivenUpCheck(notifier()).run(sqlite_engine, NIGHT)
    [row] = given_up(sqlite_engine.connect())
    handler.accept_all = True  # the scolarité's address was re-created

    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env |= {"ECAMPUS_MONITOR_STORE__URL": sqlite_url}
    cli = [sys.executable, "-m", "monitor", "outbox"]
    refused = subprocess.run(
        [*cli, "retry", "999"], env=env, capture_output=True, text=True, timeout=60
    )
    done = subprocess.run(
        [*cli, "retry", str(row.id), "--who", "jdupont"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode == 1 and "999" in refused.stderr
    assert done.returncode == 0, done.stderr
    assert "1 notification(s) queued again by jdupont" in done.stdout
    with sqlite_engine.connect() as conn:
        [event] = conn.execute(select(outbox_event)).all()
        status = conn.execute(select(outbox.c.status)).scalar_one()
    assert (event.outbox_id, event.actor, event.action) == (row.id, "jdupont", "requeue")
    assert status == "queued"

    later = datetime.now(UTC)  # re-queued "now" by the CLI: due from then
    assert send(sqlite_engine, port, later) == DeliveryOutcome(sent=1)
    assert handler.delivered == [[REFUSED]]
    GivenUpCheck(notifier()).run(sqlite_engine, later)
    [resolved] = failed_alerts(sqlite_engine)
    assert resolved.status == "resolved"


def test_a_partly_refused_notification_goes_again_to_the_refused_only(
    store_engine: Engine, make_finding: Callable[..., Finding], relay: tuple[_Relay, int]
) -> None:
    handler, port = relay
    queue(store_engine, notifier(), make_finding(subject="B", cod_cmp="14"))
    assert send(store_engine, port, NIGHT) == DeliveryOutcome(sent=1, refused=1)
    handler.accept_all = True

    with store_engine.begin() as conn:
        [row] = given_up(conn)
        assert (row.status, row.refused, row.recipients) == ("sent", 1, 2)
        assert requeue(conn, None, actor="astreinte", now=NIGHT + timedelta(hours=1)) == [row.id]
        with pytest.raises(RequeueRefused):
            requeue(conn, [row.id], actor="astreinte", now=NIGHT + timedelta(hours=1))

    assert send(store_engine, port, NIGHT + timedelta(hours=1)) == DeliveryOutcome(sent=1)
    assert handler.delivered == [[KEPT], [REFUSED]]
    with store_engine.connect() as conn:
        assert given_up(conn) == []


def test_the_api_requeues_with_a_token_and_shows_who_did(
    sqlite_engine: Engine, make_finding: Callable[..., Finding], relay: tuple[_Relay, int]
) -> None:
    _, port = relay
    queue(sqlite_engine, notifier(), make_finding(subject="A", cod_cmp="13"))
    send(sqlite_engine, port, NIGHT)
    client = make_client(sqlite_engine)
    [row] = given_up(sqlite_engine.connect())

    anonymous = client.post("/outbox/retry", json={"all_failed": True})
    neither = client.post(
        "/outbox/retry", json={}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    shown = client.get("/outbox", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    done = client.post(
        "/outbox/retry",
        json={"ids": [row.id], "who": "jdupont"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    again = client.post(
        "/outbox/retry",
        json={"ids": [row.id]},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    after = client.get("/outbox", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).json()

    assert anonymous.status_code == 401
    assert neither.status_code == 422
    [listed] = shown.json()["given_up"]
    assert (listed["id"], listed["status"], listed["refused"]) == (row.id, "failed", 1)
    assert done.status_code == 200 and done.json() == {"requeued": [row.id]}
    assert again.status_code == 409
    assert after["given_up"] == [] and after["queued"] == 1
    [action] = after["history"]
    assert (action["outbox_id"], action["actor"]) == (row.id, f"jdupont (via {OPERATOR})")
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(alert_event.c.id)).all()  # the alert's own trail is intact


def test_each_delivery_cycle_counts_them_and_raises_the_alert(
    sqlite_engine: Engine, make_finding: Callable[..., Finding], relay: tuple[_Relay, int]
) -> None:
    _, port = relay
    queue(sqlite_engine, notifier(), make_finding(subject="B", cod_cmp="14"))
    registry = CollectorRegistry()
    target = SmtpTarget(host="127.0.0.1", port=port, sender="ecm@example.org", timeout_seconds=5)
    pipeline = DetectionPipeline(
        sqlite_engine,
        notifier=notifier(),
        sender=SmtpSender(target),
        metrics=Metrics(registry),
        config=DetectorConfig(),
    )

    pipeline.deliver(NIGHT)

    assert registry.get_sample_value("ecampus_monitor_emails_sent_total") == 1
    assert registry.get_sample_value("ecampus_monitor_email_recipients_given_up_total") == 1
    assert registry.get_sample_value("ecampus_monitor_emails_gave_up_total") == 0
    [raised] = failed_alerts(sqlite_engine)
    assert (raised.status, raised.affected_count) == ("open", 1)
