"""Helpers for the page and API tests: settings with auth options, alerts made by reconcile."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import Engine
from starlette.testclient import TestClient

from alerts.notify.outbox import Notifier
from alerts.reconcile import reconcile
from alerts.routing import Router
from alerts.tables import alert
from monitor.config import HttpSettings, Settings
from monitor.http.api import create_app
from monitor.http.auth import hash_token
from monitor.metrics import Metrics
from tests.fixtures.findings import finding

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
NIGHT = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)
OPERATOR_TOKEN = "jeton-astreinte-4f1c9a"
OPERATOR = "astreinte-cemu"
HOSTILE_LABEL = '<script>alert("x")</script> Droit & <b>civil</b>'


def open_alert(engine: Engine, **overrides: Any) -> int:
    """Store the finding as an open alert through the real reconciliation; its id."""
    found = finding(**overrides)
    notifier = Notifier(Router(cemu="cemu@example.org", composantes={}), "https://ecm.example.org")
    with engine.begin() as conn:
        reconcile(
            conn,
            [found],
            detectors=[found.detector],
            subjects=[found.subject],
            now=NIGHT,
            notifier=notifier,
        )
    with engine.connect() as conn:
        row = conn.execute(alert.select().where(alert.c.fingerprint == found.fingerprint)).first()
    assert row is not None
    return int(row.id)


def settings(
    *,
    plain_tokens: tuple[str, ...] = (),
    token_hashes: dict[str, str] | None = None,
    **http: Any,
) -> Settings:
    """Settings whose ``http`` section has these auth options, validated as config.py does."""
    hashes = {OPERATOR: hash_token(OPERATOR_TOKEN)} if token_hashes is None else token_hashes
    return Settings(
        http=HttpSettings(
            api_tokens=[SecretStr(t) for t in plain_tokens], api_token_hashes=hashes, **http
        )
    )


def make_client(
    engine: Engine,
    app_settings: Settings | None = None,
    *,
    client_host: str = "testclient",
    now: datetime = NOW,
) -> TestClient:
    app = create_app(
        settings=app_settings or settings(),
        engine=engine,
        metrics=Metrics(CollectorRegistry()),
        clock=lambda: now,
    )
    return TestClient(app, client=(client_host, 50000), follow_redirects=False)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token of the first form of ``page``."""
    found = _CSRF.search(page)
    assert found is not None, "no CSRF field in the page"
    return found.group(1)


def log_in(client: TestClient, token: str = OPERATOR_TOKEN) -> str:
    """Log in through the form; the CSRF token of the new session."""
    form = client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"csrf_token": csrf_of(form.text), "token": token, "next": "/ui/alerts"},
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/ui/alerts").text)
