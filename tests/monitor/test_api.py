"""The HTTP API over a real SQLite store: filters, audit trail, tokens, probes, metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, insert, select

from alerts.tables import alert as alert_table
from alerts.tables import alert_event
from monitor.config import HttpSettings, Settings
from monitor.http.api import create_app
from monitor.metrics import Metrics

TOKEN = "on-call-token"
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
SEEN = datetime(2026, 11, 30, 22, 0)  # naive UTC, as the store keeps it
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def insert_alert(engine: Engine, subject: str, **columns: Any) -> int:
    """One alert row, open and warning unless ``columns`` say otherwise."""
    row = {
        "fingerprint": f"fp-{subject}",
        "detector": "teacher_missing",
        "subject": subject,
        "cause": "no_teacher",
        "status": "open",
        "severity": "warning",
        "audience": "scolarite",
        "phase": "occurred",
        "cod_cmp": "SCI",
        "cod_elp": subject,
        "course_id": None,
        "title": f"Cours {subject} sans enseignant",
        "summary": "Aucun enseignant n'est inscrit au cours.",
        "remediation": "Affecter un porteur dans APOGÉE.",
        "affected_count": 3,
        "evidence": [{"rule": "R3.2", "fact": "aucun porteur", "as_of": None}],
        "episode": 1,
        "first_seen": SEEN,
        "last_seen": SEEN,
        "opened_at": SEEN,
        "updated_at": SEEN,
    } | columns
    with engine.begin() as conn:
        key = conn.execute(insert(alert_table).values(row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def settings_with(tokens: list[str]) -> Settings:
    return Settings(http=HttpSettings(api_tokens=[SecretStr(t) for t in tokens]))


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry)


@pytest.fixture
def make_client(sqlite_engine: Engine, metrics: Metrics) -> Iterator[Callable[..., TestClient]]:
    """A client on an app over the test store; keyword arguments override create_app's."""
    clients: list[TestClient] = []

    def make(tokens: tuple[str, ...] = (TOKEN, "second-token"), **kwargs: Any) -> TestClient:
        arguments: dict[str, Any] = {
            "settings": settings_with(list(tokens)),
            "engine": sqlite_engine,
            "metrics": metrics,
            "clock": lambda: NOW,
        }
        app = create_app(**(arguments | kwargs))
        clients.append(TestClient(app))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def test_lists_alerts_filtered_by_status_severity_composante_and_course(
    client: TestClient, sqlite_engine: Engine
) -> None:
    open_sci = insert_alert(sqlite_engine, "ELP1")
    insert_alert(sqlite_engine, "ELP2", status="resolved", resolved_at=SEEN)
    critical_law = insert_alert(sqlite_engine, "ELP3", severity="critical", cod_cmp="DRT")

    def ids(**params: Any) -> set[int]:
        response = client.get("/alerts", params=params)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()}

    assert len(ids()) == 3
    assert ids(status="open") == {open_sci, critical_law}
    assert ids(severity="critical") == {critical_law}
    assert ids(cod_cmp="SCI", status="open") == {open_sci}
    assert ids(cod_elp="ELP3") == {critical_law}
    assert ids(detector="nobody") == set()
    assert len(ids(limit=2)) == 2
    assert len(ids(limit=2, offset=2)) == 1


def test_listed_alert_carries_its_fields_and_utc_iso_dates(
    client: TestClient, sqlite_engine: Engine
) -> None:
    insert_alert(sqlite_engine, "ELP1")

    (shown,) = client.get("/alerts").json()

    assert shown["cod_elp"] == "ELP1"
    assert shown["evidence"] == [{"rule": "R3.2", "fact": "aucun porteur", "as_of": None}]
    assert shown["first_seen"] == "2026-11-30T22:00:00Z"
    assert shown["acknowledged_at"] is None


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"status": "closed"}]
)
def test_bad_list_filters_are_refused_with_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/alerts", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == next(iter(params))


def test_gets_one_alert_with_empty_history(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")

    response = client.get(f"/alerts/{alert_id}")

    assert response.status_code == 200
    assert response.json()["id"] == alert_id
    assert response.json()["title"] == "Cours ELP1 sans enseignant"
    assert response.json()["history"] == []


def test_unknown_alert_is_a_404_json_error(client: TestClient) -> None:
    response = client.get("/alerts/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "alert 999 not found"}


def test_ack_records_who_and_when_and_appears_in_history(
    client: TestClient, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")

    with caplog.at_level(logging.INFO, logger="monitor.http.api"):
        response = client.post(
            f"/alerts/{alert_id}/ack",
            json={"who": "m.dupont", "comment": "je m'en occupe"},
            headers=AUTH,
        )

    assert response.status_code == 200, response.text
    acked = response.json()
    assert acked["status"] == "acknowledged"
    # A name in the body never stands alone: the token that vouches for it is kept.
    assert acked["acknowledged_by"] == "m.dupont (via api-token-1)"
    assert acked["acknowledged_at"] == "2026-12-01T08:30:00Z"
    history = client.get(f"/alerts/{alert_id}").json()["history"]
    assert [(e["actor"], e["to_status"], e["comment"]) for e in history][-1] == (
        "m.dupont (via api-token-1)",
        "acknowledged",
        "je m'en occupe",
    )
    assert history[-1]["from_status"] == "open"
    assert f"alert {alert_id} acknowledged by 'm.dupont (via api-token-1)'" in caplog.messages


def test_ack_with_second_configured_token_is_accepted(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")

    response = client.post(
        f"/alerts/{alert_id}/ack",
        json={"who": "cemu"},
        headers={"Authorization": "Bearer second-token"},
    )

    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == "cemu (via api-token-2)"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_ack_without_valid_token_is_401_and_changes_nothing(
    client: TestClient, sqlite_engine: Engine, headers: dict[str, str]
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")

    response = client.post(f"/alerts/{alert_id}/ack", json={"who": "intrus"}, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_ack_is_refused_with_503_when_no_token_is_configured(
    make_client: Callable[..., TestClient], sqlite_engine: Engine
) -> None:
    client = make_client(tokens=())
    alert_id = insert_alert(sqlite_engine, "ELP1")

    response = client.post(f"/alerts/{alert_id}/ack", json={"who": "m.dupont"}, headers=AUTH)

    assert response.status_code == 503
    assert response.json() == {"detail": "no API token configured"}
    assert client.get(f"/alerts/{alert_id}").json()["acknowledged_by"] is None


def test_ack_of_unknown_alert_is_404(client: TestClient) -> None:
    response = client.post("/alerts/999/ack", json={"who": "m.dupont"}, headers=AUTH)

    assert response.status_code == 404
    assert response.json() == {"detail": "alert 999 not found"}


def test_ack_of_resolved_alert_is_409_with_the_reason(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1", status="resolved", resolved_at=SEEN)

    response = client.post(f"/alerts/{alert_id}/ack", json={"who": "m.dupont"}, headers=AUTH)

    assert response.status_code == 409
    assert response.json() == {"detail": f"alert {alert_id}: cannot acknowledge a resolved alert"}
    with sqlite_engine.connect() as conn:
        events = conn.execute(select(alert_event).where(alert_event.c.alert_id == alert_id))
        assert events.all() == []


@pytest.mark.parametrize("body", [{"who": ""}, {"who": "   "}, {"who": "x", "extra": 1}])
def test_ack_refuses_an_empty_who_and_unknown_fields(
    client: TestClient, sqlite_engine: Engine, body: dict[str, Any]
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")

    response = client.post(f"/alerts/{alert_id}/ack", json=body, headers=AUTH)

    assert response.status_code == 422
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_healthz_says_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_checks_answer(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(readiness=lambda: {"consumer": True})

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": True, "consumer": True},
        "failing": [],
        "reasons": {},
    }


def test_readyz_is_503_naming_the_failing_check(make_client: Callable[..., TestClient]) -> None:
    client = make_client(readiness=lambda: {"consumer": True, "broker": False})

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_readyz_says_why_a_check_fails(make_client: Callable[..., TestClient]) -> None:
    client = make_client(
        readiness=lambda: {"broker": False, "store": True},
        readiness_reasons=lambda: {"broker": "Kafka does not answer (KafkaTimeoutError)"},
    )

    answer = client.get("/readyz").json()

    assert answer["failing"] == ["broker"]
    assert answer["reasons"] == {"broker": "Kafka does not answer (KafkaTimeoutError)"}


def test_readyz_is_503_when_a_readiness_check_raises(
    make_client: Callable[..., TestClient],
) -> None:
    def consumer_crashed() -> dict[str, bool]:
        raise RuntimeError("consumer thread died")

    client = make_client(readiness=consumer_crashed)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["readiness"]


def test_readyz_is_503_when_the_database_does_not_answer(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    # A directory is not a database file: SQLite cannot open it.
    broken = create_engine(f"sqlite:///{tmp_path}")
    client = make_client(engine=broken)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] is False
    assert response.json()["failing"] == ["database"]
    assert response.json()["reasons"]["database"].startswith("state store does not answer")
    broken.dispose()


def test_listing_is_503_json_when_the_database_does_not_answer(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    broken = create_engine(f"sqlite:///{tmp_path}")
    client = make_client(engine=broken)

    response = client.get("/alerts")

    assert response.status_code == 503
    assert response.json() == {"detail": "state store unavailable"}
    broken.dispose()


def test_metrics_counts_alerts_by_status_detector_and_severity(
    client: TestClient, sqlite_engine: Engine, registry: CollectorRegistry
) -> None:
    insert_alert(sqlite_engine, "ELP1")
    insert_alert(sqlite_engine, "ELP2")
    insert_alert(sqlite_engine, "ELP3", severity="critical")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'ecampus_monitor_alerts{detector="teacher_missing",severity="warning",status="open"} 2.0'
        in response.text
    )
    labels = {"status": "open", "detector": "teacher_missing", "severity": "critical"}
    assert registry.get_sample_value("ecampus_monitor_alerts", labels) == 1.0


def test_metrics_drops_label_sets_no_alert_has_any_more(
    client: TestClient, sqlite_engine: Engine, registry: CollectorRegistry
) -> None:
    alert_id = insert_alert(sqlite_engine, "ELP1")
    open_labels = {"status": "open", "detector": "teacher_missing", "severity": "warning"}
    client.get("/metrics")
    assert registry.get_sample_value("ecampus_monitor_alerts", open_labels) == 1.0

    client.post(f"/alerts/{alert_id}/ack", json={"who": "m.dupont"}, headers=AUTH)
    client.get("/metrics")

    assert registry.get_sample_value("ecampus_monitor_alerts", open_labels) is None
    acked_labels = open_labels | {"status": "acknowledged"}
    assert registry.get_sample_value("ecampus_monitor_alerts", acked_labels) == 1.0


def test_metrics_keep_the_last_alert_counts_when_the_store_is_down(
    make_client: Callable[..., TestClient],
    metrics: Metrics,
    registry: CollectorRegistry,
    tmp_path: Path,
) -> None:
    labels = {"status": "open", "detector": "teacher_missing", "severity": "warning"}
    metrics.alerts.labels(**labels).set(4)
    broken = create_engine(f"sqlite:///{tmp_path}")
    client = make_client(engine=broken)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert registry.get_sample_value("ecampus_monitor_alerts", labels) == 4.0
    broken.dispose()


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert {
        "/alerts",
        "/alerts/{alert_id}",
        "/alerts/{alert_id}/ack",
        "/healthz",
        "/readyz",
    } <= set(paths)
    assert paths["/alerts/{alert_id}/ack"]["post"]["security"] == [{"HTTPBearer": []}]
    assert client.get("/docs").status_code == 200
