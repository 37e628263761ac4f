"""Who may act over HTTP: hashed and plain tokens, the proxy's user header, and the page's login."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from monitor.http.auth import hash_token
from tests.monitor.web_support import (
    OPERATOR,
    OPERATOR_TOKEN,
    csrf_of,
    log_in,
    make_client,
    open_alert,
    settings,
)

PROXY = "127.0.0.1"
CAS_ON = {"trust_user_header": True, "trusted_proxies": [PROXY]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_hashed_token_acts_in_its_own_name(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", json={}, headers=bearer(OPERATOR_TOKEN))

    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_by"] == OPERATOR
    assert response.json()["history"][-1]["actor"] == OPERATOR


def test_the_hash_of_a_token_is_not_a_token(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    alert_id = open_alert(sqlite_engine)

    response = client.post(
        f"/alerts/{alert_id}/ack", json={}, headers=bearer(hash_token(OPERATOR_TOKEN))
    )

    assert response.status_code == 401


def test_plain_and_hashed_tokens_work_side_by_side(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(plain_tokens=("demo-token",)))
    first, second = open_alert(sqlite_engine), open_alert(sqlite_engine, subject="ELP2")

    by_plain = client.post(f"/alerts/{first}/ack", json={}, headers=bearer("demo-token"))
    by_hash = client.post(f"/alerts/{second}/ack", json={}, headers=bearer(OPERATOR_TOKEN))

    assert by_plain.json()["acknowledged_by"] == "api-token-1"
    assert by_hash.json()["acknowledged_by"] == OPERATOR


ACTION_BODIES = {
    "ack": {},
    "comment": {"text": "vu"},
    "snooze": {"until": "2026-12-24T08:00:00+01:00", "reason": "congés"},
    "resolve": {},
}


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), {"Authorization": f"Basic {OPERATOR_TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
@pytest.mark.parametrize("action", sorted(ACTION_BODIES))
def test_every_action_without_a_valid_token_is_401(
    sqlite_engine: Engine, headers: dict[str, str], action: str
) -> None:
    client = make_client(sqlite_engine)
    alert_id = open_alert(sqlite_engine)

    response = client.post(
        f"/alerts/{alert_id}/{action}", json=ACTION_BODIES[action], headers=headers
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(f"/alerts/{alert_id}").json()["history"][-1]["actor"] == "ecampus-monitor"


def test_the_trusted_header_from_the_proxy_identifies_the_user(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host=PROXY)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", json={}, headers={"X-Remote-User": "jdupont"})

    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_by"] == "jdupont"


def test_the_header_is_ignored_when_trust_is_off(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, client_host=PROXY)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", json={}, headers={"X-Remote-User": "jdupont"})

    assert response.status_code == 401


def test_the_header_is_ignored_from_an_untrusted_address(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host="192.0.2.50")
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", json={}, headers={"X-Remote-User": "jdupont"})

    assert response.status_code == 401
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_a_header_user_must_post_json_so_a_cross_site_form_cannot_ride_the_cas_session(
    sqlite_engine: Engine,
) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host=PROXY)
    alert_id = open_alert(sqlite_engine)

    response = client.post(
        f"/alerts/{alert_id}/resolve",
        content=b"comment=pwned",
        headers={"X-Remote-User": "jdupont", "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_a_wrong_token_is_not_rescued_by_the_header(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host=PROXY)
    alert_id = open_alert(sqlite_engine)

    response = client.post(
        f"/alerts/{alert_id}/ack",
        json={},
        headers={"X-Remote-User": "jdupont", **bearer("wrong")},
    )

    assert response.status_code == 401


def test_header_only_configuration_still_refuses_anonymous_calls(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(token_hashes={}, **CAS_ON), client_host=PROXY)
    alert_id = open_alert(sqlite_engine)

    assert client.post(f"/alerts/{alert_id}/ack", json={}).status_code == 401


def test_no_token_and_no_header_is_503(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(token_hashes={}))
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", json={}, headers=bearer(OPERATOR_TOKEN))

    assert response.status_code == 503


def test_the_page_asks_to_log_in_first(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)

    response = client.get("/ui/alerts?status=open")

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2Falerts%3Fstatus%3Dopen"


def test_logging_in_with_a_token_sets_a_strict_http_only_session(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    form = client.get("/ui/login")

    response = client.post(
        "/ui/login",
        data={
            "csrf_token": csrf_of(form.text),
            "token": OPERATOR_TOKEN,
            "next": "/ui/alerts?status=open",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/alerts?status=open"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("ecm_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # the public URL is http here
    page = client.get("/ui/alerts")
    assert page.status_code == 200
    assert f"<strong>{OPERATOR}</strong>" in page.text


def test_the_session_cookie_is_secure_behind_an_https_public_url(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(public_url="https://ecm.example.org"))

    assert "Secure" in client.get("/ui/login").headers["set-cookie"]


def test_a_wrong_token_on_the_login_form_is_401_and_no_session(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    form = client.get("/ui/login")

    response = client.post(
        "/ui/login", data={"csrf_token": csrf_of(form.text), "token": "wrong", "next": ""}
    )

    assert response.status_code == 401
    assert "Jeton inconnu" in response.text
    assert client.get("/ui/alerts").status_code == 303


def test_the_login_form_needs_its_csrf_token(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    client.get("/ui/login")

    response = client.post("/ui/login", data={"token": OPERATOR_TOKEN})

    assert response.status_code == 403
    assert client.get("/ui/alerts").status_code == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/ui/", "/ui/\\evil", "/metrics"]
)
def test_login_never_redirects_off_the_page(sqlite_engine: Engine, target: str) -> None:
    client = make_client(sqlite_engine)
    form = client.get("/ui/login")

    response = client.post(
        "/ui/login",
        data={"csrf_token": csrf_of(form.text), "token": OPERATOR_TOKEN, "next": target},
    )

    assert response.headers["location"] == "/ui/alerts"


def test_logging_out_ends_the_session(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    csrf = log_in(client)

    response = client.post("/ui/logout", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert client.get("/ui/alerts").status_code == 303


def test_a_session_ends_when_its_token_is_removed(sqlite_engine: Engine) -> None:
    shared_secret = {"session_secret": "one secret for every replica and restart"}
    before = make_client(sqlite_engine, settings(**shared_secret))
    log_in(before)
    after = make_client(
        sqlite_engine, settings(token_hashes={"other": hash_token("x")}, **shared_secret)
    )
    after.cookies = before.cookies

    assert after.get("/ui/alerts").status_code == 303


def test_a_session_survives_a_restart_with_a_configured_secret(sqlite_engine: Engine) -> None:
    shared_secret = {"session_secret": "one secret for every replica and restart"}
    before = make_client(sqlite_engine, settings(**shared_secret))
    log_in(before)
    after = make_client(sqlite_engine, settings(**shared_secret))
    after.cookies = before.cookies

    assert after.get("/ui/alerts").status_code == 200


def test_the_page_trusts_the_proxy_user_without_a_login(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host=PROXY)

    page = client.get("/ui/alerts", headers={"X-Remote-User": "jdupont"})

    assert page.status_code == 200
    assert "<strong>jdupont</strong>" in page.text
    assert "Se déconnecter" not in page.text  # the proxy's session is not ours to end


def test_the_page_ignores_the_header_from_an_untrusted_address(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, settings(**CAS_ON), client_host="192.0.2.50")

    page = client.get("/ui/alerts", headers={"X-Remote-User": "jdupont"})

    assert page.status_code == 303
