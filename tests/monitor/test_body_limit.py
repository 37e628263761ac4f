"""Request bodies are capped before they are read, and anonymous writes are refused unread."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine

from tests.monitor.web_support import OPERATOR_TOKEN, csrf_of, make_client, open_alert, settings

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}
SMALL = settings(max_body_bytes=2048)


def chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), as a streaming client does."""
    yield b'{"comment": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_a_declared_body_over_the_limit_is_413(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, SMALL)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", content=b"{}" + b" " * 3000, headers=AUTH)

    assert response.status_code == 413
    assert response.headers["connection"] == "close"


def test_a_streamed_body_over_the_limit_is_413_and_changes_nothing(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, SMALL)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", content=chunks(10_000), headers=AUTH)

    assert response.status_code == 413
    assert client.get(f"/alerts/{alert_id}").json()["status"] == "open"


def test_a_body_under_the_limit_is_read(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, SMALL)
    alert_id = open_alert(sqlite_engine)

    response = client.post(f"/alerts/{alert_id}/ack", content=chunks(1024), headers=AUTH)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"


def test_an_anonymous_write_is_401_whatever_its_size(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, SMALL)

    declared = client.post("/alerts/1/ack", content=b" " * 100_000)
    streamed = client.post("/outbox/retry", content=chunks(100_000))

    assert (declared.status_code, streamed.status_code) == (401, 401)
    assert declared.headers["www-authenticate"] == "Bearer"


def test_a_page_form_over_the_limit_is_413(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine, SMALL)
    csrf = csrf_of(client.get("/ui/login").text)

    response = client.post(
        "/ui/login",
        content=f"csrf_token={csrf}&token=".encode() + b"x" * 5000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
