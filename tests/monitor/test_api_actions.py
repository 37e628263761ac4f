"""Every operator action over the JSON API: effect, audit trail, and its 404/409/422 answers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, insert
from starlette.testclient import TestClient

from alerts.tables import outbox
from monitor.http.auth import hash_token
from tests.monitor.web_support import (
    NOW,
    OPERATOR,
    OPERATOR_TOKEN,
    make_client,
    open_alert,
    settings,
)

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def client(sqlite_engine: Engine) -> TestClient:
    return make_client(sqlite_engine)


def post(client: TestClient, alert_id: int, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/alerts/{alert_id}/{action}", json=body, headers=AUTH)


def test_ack_with_an_expected_until_date_keeps_it(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(
        client,
        alert_id,
        "ack",
        {"comment": "cours fermé exprès", "expected_until": "2027-06-30T23:59:00+02:00"},
    )

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["status"] == "acknowledged"
    assert shown["acknowledged_by"] == OPERATOR
    assert shown["expected_until"] == "2027-06-30T21:59:00Z"
    last = shown["history"][-1]
    assert (last["action"], last["comment"], last["until"]) == (
        "acknowledge",
        "cours fermé exprès",
        "2027-06-30T21:59:00Z",
    )


def test_ack_expected_until_in_the_past_is_422(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "ack", {"expected_until": "2026-11-01T00:00:00+01:00"})

    assert response.status_code == 422
    assert response.json() == {"detail": "the expected-until date is already past"}
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_ack_expected_until_without_offset_is_422(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "ack", {"expected_until": "2027-06-30T23:59:00"})

    assert response.status_code == 422


def test_comment_writes_the_audit_trail_and_keeps_the_status(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "comment", {"text": "appel à la scolarité HSS, en cours"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "open"
    last = response.json()["history"][-1]
    assert (last["actor"], last["action"], last["comment"]) == (
        OPERATOR,
        "comment",
        "appel à la scolarité HSS, en cours",
    )
    assert last["from_status"] == last["to_status"] == "open"


def test_a_resolved_alert_can_still_be_commented(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    post(client, alert_id, "resolve", {})

    response = post(client, alert_id, "comment", {"text": "post-mortem envoyé"})

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 4001}])
def test_comment_needs_text(
    client: TestClient, sqlite_engine: Engine, body: dict[str, Any]
) -> None:
    alert_id = open_alert(sqlite_engine)

    assert post(client, alert_id, "comment", body).status_code == 422


def test_snooze_until_a_date_with_a_reason(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(
        client,
        alert_id,
        "snooze",
        {"until": "2026-12-02T08:00:00+01:00", "reason": "la scolarité rouvre demain"},
    )

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["status"] == "snoozed"
    assert shown["snoozed_until"] == "2026-12-02T07:00:00Z"
    assert shown["history"][-1]["comment"] == "la scolarité rouvre demain"
    assert shown["history"][-1]["actor"] == OPERATOR


@pytest.mark.parametrize(
    "body",
    [
        {"until": "2026-12-02T08:00:00+01:00"},
        {"until": "2026-12-02T08:00:00+01:00", "reason": "  "},
        {"reason": "sans date"},
        {"until": "demain", "reason": "x"},
    ],
    ids=["no-reason", "blank-reason", "no-date", "bad-date"],
)
def test_snooze_needs_a_date_and_a_reason(
    client: TestClient, sqlite_engine: Engine, body: dict[str, Any]
) -> None:
    alert_id = open_alert(sqlite_engine)

    assert post(client, alert_id, "snooze", body).status_code == 422
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_snooze_into_the_past_is_422(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "snooze", {"until": NOW.isoformat(), "reason": "x"})

    assert response.status_code == 422
    assert response.json() == {"detail": "the snooze end is already past"}


def test_resolve_by_hand(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "resolve", {"comment": "ELP rétabli dans APOGÉE"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] == "2026-12-01T08:30:00Z"
    last = response.json()["history"][-1]
    assert (last["actor"], last["action"], last["rule"]) == (
        OPERATOR,
        "resolve",
        "resolved-by-hand",
    )


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("ack", {}),
        ("snooze", {"until": "2026-12-24T08:00:00+01:00", "reason": "x"}),
        ("resolve", {}),
    ],
)
def test_changing_a_resolved_alert_is_409(
    client: TestClient, sqlite_engine: Engine, action: str, body: dict[str, Any]
) -> None:
    alert_id = open_alert(sqlite_engine)
    post(client, alert_id, "resolve", {})

    response = post(client, alert_id, action, body)

    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("ack", {}),
        ("comment", {"text": "x"}),
        ("snooze", {"until": "2026-12-24T08:00:00+01:00", "reason": "x"}),
        ("resolve", {}),
    ],
)
def test_every_action_on_an_unknown_alert_is_404(
    client: TestClient, action: str, body: dict[str, Any]
) -> None:
    response = post(client, 999, action, body)

    assert response.status_code == 404
    assert response.json() == {"detail": "alert 999 not found"}


def test_unknown_fields_are_refused(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    assert post(client, alert_id, "resolve", {"actor": "quelqu'un"}).status_code == 422


def test_who_is_recorded_with_the_token_that_vouches_for_it(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    response = post(client, alert_id, "comment", {"text": "vu", "who": "m.dupont"})

    assert response.json()["history"][-1]["actor"] == f"m.dupont (via {OPERATOR})"


def test_a_browser_following_an_email_link_is_sent_to_the_page(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)

    response = client.get(
        f"/alerts/{alert_id}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/alerts/{alert_id}"
    assert client.get(f"/alerts/{alert_id}").json()["id"] == alert_id


def test_outbox_status_shows_failures_to_operators_only(
    client: TestClient, sqlite_engine: Engine
) -> None:
    open_alert(sqlite_engine)  # queues its email
    with sqlite_engine.begin() as conn:
        conn.execute(
            insert(outbox).values(
                dedup_key="failed-one",
                recipients=["scolarite@example.org"],
                subject="s",
                body_text="t",
                body_html="h",
                status="failed",
                attempts=8,
                next_attempt_at=NOW.replace(tzinfo=None),
                last_error="550 5.1.1 mailbox unavailable",
                created_at=NOW.replace(tzinfo=None),
            )
        )

    assert client.get("/outbox").status_code == 401
    response = client.get("/outbox", headers=AUTH)

    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["queued"], shown["failed"]) == (1, 1)
    assert shown["last_errors"][0]["last_error"] == "550 5.1.1 mailbox unavailable"
    assert shown["last_errors"][0]["attempts"] == 8


def test_openapi_documents_every_action(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    for action in ("ack", "comment", "snooze", "resolve"):
        operation = paths[f"/alerts/{{alert_id}}/{action}"]["post"]
        assert operation["security"] == [{"HTTPBearer": []}]
        assert {"401", "404", "409", "422"} <= set(operation["responses"])
    assert "/outbox" in paths
    assert not any(path.startswith("/ui") for path in paths)


def test_a_second_named_token_acts_in_its_own_name(sqlite_engine: Engine) -> None:
    client = make_client(
        sqlite_engine,
        settings(token_hashes={OPERATOR: hash_token(OPERATOR_TOKEN), "m.martin": hash_token("mm")}),
    )
    alert_id = open_alert(sqlite_engine)

    response = client.post(
        f"/alerts/{alert_id}/ack", json={}, headers={"Authorization": "Bearer mm"}
    )

    assert response.json()["acknowledged_by"] == "m.martin"
