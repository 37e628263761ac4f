"""The page's action forms: each action in the user's name, CSRF refused, errors in French."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.monitor.web_support import (
    OPERATOR,
    csrf_of,
    log_in,
    make_client,
    open_alert,
    settings,
)


@pytest.fixture
def client(sqlite_engine: Engine) -> TestClient:
    return make_client(sqlite_engine)


def alert_json(client: TestClient, alert_id: int) -> Any:
    return client.get(f"/alerts/{alert_id}").json()


def submit(client: TestClient, alert_id: int, action: str, csrf: str, **fields: str) -> Any:
    return client.post(f"/ui/alerts/{alert_id}/{action}", data={"csrf_token": csrf, **fields})


def test_acknowledge_from_the_page_in_the_users_name(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = submit(
        client, alert_id, "acknowledge", csrf, comment="je m'en occupe", expected_until=""
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/alerts/{alert_id}?done=acknowledged"
    shown = alert_json(client, alert_id)
    assert (shown["status"], shown["acknowledged_by"]) == ("acknowledged", OPERATOR)
    assert shown["expected_until"] is None
    page = client.get(response.headers["location"]).text
    assert "L&#39;alerte est prise en charge à votre nom." in page
    assert "je m&#39;en occupe" in page


def test_acknowledge_with_an_expected_until_day_means_the_end_of_that_day_in_paris(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    submit(client, alert_id, "acknowledge", csrf, comment="", expected_until="2027-06-30")

    assert alert_json(client, alert_id)["expected_until"] == "2027-06-30T21:59:00Z"
    page = client.get(f"/ui/alerts/{alert_id}").text
    assert "Attendu jusqu'au</dt><dd>30/06/2027 23:59" in page
    assert "Changer la date attendue" in page  # acknowledged: the form moves the date


def test_a_form_field_cannot_choose_who_acted(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    submit(client, alert_id, "comment", csrf, text="vu", who="le.directeur", actor="x")

    assert alert_json(client, alert_id)["history"][-1]["actor"] == OPERATOR


def test_comment_from_the_page(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = submit(client, alert_id, "comment", csrf, text="appel à la scolarité")

    assert response.status_code == 303
    last = alert_json(client, alert_id)["history"][-1]
    assert (last["action"], last["comment"], last["actor"]) == (
        "comment",
        "appel à la scolarité",
        OPERATOR,
    )


def test_snooze_from_the_page_reads_the_time_in_paris(
    client: TestClient, sqlite_engine: Engine
) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = submit(
        client, alert_id, "snooze", csrf, until="2026-12-02T08:00", reason="scolarité fermée"
    )

    assert response.status_code == 303
    shown = alert_json(client, alert_id)
    assert shown["status"] == "snoozed"
    assert shown["snoozed_until"] == "2026-12-02T07:00:00Z"
    assert (
        "En attente jusqu'au</dt><dd>02/12/2026 08:00" in client.get(f"/ui/alerts/{alert_id}").text
    )


def test_resolve_from_the_page(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = submit(client, alert_id, "resolve", csrf, comment="ELP rétabli")

    assert response.status_code == 303
    assert alert_json(client, alert_id)["status"] == "resolved"
    page = client.get(f"/ui/alerts/{alert_id}").text
    assert "vous pouvez encore la commenter" in page
    assert "/resolve" not in page and "/snooze" not in page and "/acknowledge" not in page


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("comment", {"text": "   "}, "Le commentaire est obligatoire."),
        ("snooze", {"until": "2026-12-02T08:00", "reason": ""}, "La raison est obligatoire."),
        ("snooze", {"until": "", "reason": "x"}, "La date de fin de mise en attente"),
        ("snooze", {"until": "demain", "reason": "x"}, "date et heure illisibles"),
        ("snooze", {"until": "2026-11-30T08:00", "reason": "x"}, "est déjà passée"),
        ("acknowledge", {"expected_until": "2026-11-30"}, "est déjà passée"),
        ("acknowledge", {"expected_until": "30/12/2026"}, "date illisible"),
    ],
)
def test_a_wrong_form_is_422_with_a_french_message_and_changes_nothing(
    client: TestClient, sqlite_engine: Engine, action: str, fields: dict[str, str], message: str
) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = submit(client, alert_id, action, csrf, **fields)

    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert len(alert_json(client, alert_id)["history"]) == 1


def test_an_action_the_state_refuses_is_409(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)
    submit(client, alert_id, "resolve", csrf)

    response = submit(client, alert_id, "acknowledge", csrf)

    assert response.status_code == 409
    assert "pas possible dans l&#39;état actuel" in response.text


def test_an_unknown_alert_or_action_is_404(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    assert submit(client, 999, "comment", csrf, text="x").status_code == 404
    assert submit(client, alert_id, "delete", csrf).status_code == 404


@pytest.mark.parametrize("action", ["acknowledge", "comment", "snooze", "resolve"])
@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_every_form_without_its_csrf_token_is_403_and_changes_nothing(
    client: TestClient, sqlite_engine: Engine, action: str, token: str | None
) -> None:
    alert_id = open_alert(sqlite_engine)
    log_in(client)
    fields = {"text": "x", "until": "2026-12-02T08:00", "reason": "x", "comment": "x"}
    if token is not None:
        fields["csrf_token"] = token

    response = client.post(f"/ui/alerts/{alert_id}/{action}", data=fields)

    assert response.status_code == 403
    assert "Formulaire refusé" in response.text
    assert len(alert_json(client, alert_id)["history"]) == 1


def test_the_csrf_token_of_another_session_is_refused(sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    victim, attacker = make_client(sqlite_engine), make_client(sqlite_engine)
    log_in(victim)
    attackers_token = log_in(attacker)

    response = submit(victim, alert_id, "resolve", attackers_token)

    assert response.status_code == 403
    assert alert_json(victim, alert_id)["status"] == "open"


def test_a_form_without_a_session_is_401(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/ui/alerts/{alert_id}/resolve", data={"csrf_token": "x"})

    assert response.status_code == 401
    assert alert_json(client, alert_id)["status"] == "open"


def test_a_form_posted_as_json_is_refused(client: TestClient, sqlite_engine: Engine) -> None:
    alert_id = open_alert(sqlite_engine)
    csrf = log_in(client)

    response = client.post(f"/ui/alerts/{alert_id}/resolve", json={"csrf_token": csrf})

    assert response.status_code == 415
    assert alert_json(client, alert_id)["status"] == "open"


def test_a_proxy_user_acts_from_the_page_with_the_csrf_token(sqlite_engine: Engine) -> None:
    client = make_client(
        sqlite_engine,
        settings(trust_user_header=True, trusted_proxies=["127.0.0.1"]),
        client_host="127.0.0.1",
    )
    cas = {"X-Remote-User": "jdupont"}
    alert_id = open_alert(sqlite_engine)
    csrf = csrf_of(client.get(f"/ui/alerts/{alert_id}", headers=cas).text)

    forged = client.post(f"/ui/alerts/{alert_id}/acknowledge", data={"comment": "x"}, headers=cas)
    done = client.post(f"/ui/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf}, headers=cas)

    assert forged.status_code == 403
    assert done.status_code == 303
    assert alert_json(client, alert_id)["acknowledged_by"] == "jdupont"
