"""What is pushed to Alertmanager: which alerts, which labels, and never personal data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from alerts.notify.alertmanager import (
    AlertmanagerPusher,
    AlertmanagerUnavailable,
    PushOutcome,
    alertmanager_alert,
)
from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.repository import AlertRecord
from detectors.findings import Evidence, Finding

NIGHT = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
URL = "https://ecampus-monitor.example.org"
MINUTE = timedelta(minutes=1)

MakeFinding = Callable[..., Finding]


def test_labels_identify_the_alert_without_personal_data(
    make_alert: Callable[..., AlertRecord],
) -> None:
    record = make_alert(
        summary="Écrire à jean.dupont@etu.example.org pour prévenir.",
        evidence=(Evidence("R3", "étudiant 21609846 sans groupe"),),
    )
    sent = alertmanager_alert(record, now=NIGHT, renew_for=3 * MINUTE, public_url=URL)
    assert sent["labels"] == {
        "alertname": "course_archived",
        "severity": "warning",
        "composante": "12",
        "cod_elp": "RCAED334",
        "cause": "elp_removed",
        "fingerprint": record.fingerprint,
    }
    assert sent["annotations"]["link"] == f"{URL}/alerts/7"
    assert sent["annotations"]["status"] == "open"
    assert sent["annotations"]["summary"] == "Écrire à <adresse> pour prévenir."
    assert sent["startsAt"] == "2026-11-30T02:15:00Z"
    assert sent["endsAt"] == "2026-11-30T02:18:00Z"
    assert "21609846" not in json.dumps(sent)


def test_resolved_alert_ends_when_it_was_resolved(
    make_alert: Callable[..., AlertRecord],
) -> None:
    record = make_alert(status="resolved", resolved_at=NIGHT + 5 * MINUTE, cod_cmp=None)
    sent = alertmanager_alert(record, now=NIGHT + MINUTE * 30, renew_for=MINUTE, public_url=URL)
    assert sent["endsAt"] == "2026-11-30T02:20:00Z"
    assert "composante" not in sent["labels"]


class Recorder:
    def __init__(self, status: int = 200) -> None:
        self.bodies: list[list[dict[str, object]]] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/alerts"
        self.bodies.append(json.loads(request.content))
        return httpx.Response(self.status, text="bad alert" if self.status >= 300 else "")


def push(engine: Engine, pusher: AlertmanagerPusher, now: datetime) -> PushOutcome:
    with engine.connect() as conn:
        return pusher.push(conn, now)


def test_push_sends_active_and_recently_resolved_not_pending(
    store_engine: Engine, notifier: Notifier, make_finding: MakeFinding
) -> None:
    findings = [
        make_finding(),
        make_finding(subject="B", cod_elp="B"),
        make_finding(subject="P", cod_elp="P", pending_until_next_run=True),
    ]
    with store_engine.begin() as conn:
        reconcile(
            conn,
            findings,
            detectors={"course_archived"},
            subjects=None,
            now=NIGHT,
            notifier=notifier,
        )
        reconcile(
            conn,
            findings[:1] + findings[2:],
            detectors={"course_archived"},
            subjects=None,
            now=NIGHT + MINUTE,
            notifier=notifier,
        )
    recorder = Recorder()
    pusher = AlertmanagerPusher(
        "http://alertmanager:9093/", public_url=URL, transport=httpx.MockTransport(recorder)
    )
    assert push(store_engine, pusher, NIGHT + 2 * MINUTE) == PushOutcome(firing=1, resolved=1)
    [body] = recorder.bodies
    assert sorted((a["labels"]["cod_elp"], a["annotations"]["status"]) for a in body) == [
        ("B", "resolved"),
        ("RCAED334", "open"),
    ]
    # An hour later the resolved one is no longer sent; Alertmanager has long resolved it.
    assert push(store_engine, pusher, NIGHT + 2 * timedelta(hours=1)) == PushOutcome(firing=1)


def test_push_is_due_every_interval(store_engine: Engine) -> None:
    pusher = AlertmanagerPusher(
        "http://am", public_url=URL, interval=MINUTE, transport=httpx.MockTransport(Recorder())
    )
    assert pusher.due(NIGHT)
    push(store_engine, pusher, NIGHT)
    assert not pusher.due(NIGHT + 59 * timedelta(seconds=1))
    assert pusher.due(NIGHT + MINUTE)


@pytest.mark.parametrize(
    ("transport", "message"),
    [
        (httpx.MockTransport(Recorder(status=400)), "HTTP 400: bad alert"),
        (
            httpx.MockTransport(
                lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused"))
            ),
            "ConnectError: refused",
        ),
    ],
    ids=["refused", "unreachable"],
)
def test_a_failed_push_says_so(
    store_engine: Engine,
    notifier: Notifier,
    make_finding: MakeFinding,
    transport: httpx.BaseTransport,
    message: str,
) -> None:
    with store_engine.begin() as conn:
        reconcile(
            conn,
            [make_finding()],
            detectors={"course_archived"},
            subjects=None,
            now=NIGHT,
            notifier=notifier,
        )
    pusher = AlertmanagerPusher("http://am", public_url=URL, transport=transport)
    with pytest.raises(AlertmanagerUnavailable, match=message):
        push(store_engine, pusher, NIGHT)
